"""Template filters that turn Sophos API codes into words."""

from __future__ import annotations

from collections.abc import Iterable

from django import template

from sophos.services import labels, policies

register = template.Library()


@register.filter
def action_label(action: str) -> str:
    """Return a button label for an alert action, such as "Clean virus"."""
    return labels.code_label(action)


@register.filter
def code_label(value: str | Iterable[str] | None) -> str:
    """Return the label of an API code, or of each code in a list.

    ``{{ endpoint.type|code_label }}`` shows "Security VM" for securityVm.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return labels.code_label(value)
    return labels.codes_label(value)


@register.filter
def job_kind_label(kind: str | None) -> str:
    """Return the label of a job kind, such as "Isolation: isolate"."""
    if kind is None:
        return ""
    return labels.job_kind_label(kind)


@register.filter
def audit_operation_label(operation: str, tenant_id: object = None) -> str:
    """Return the label of an audit entry's operation.

    ``{{ entry.operation|audit_operation_label:entry.tenant_id }}``
    distinguishes a portal user's operation from a Sophos directory user's
    by the tenant.
    """
    return labels.audit_operation_label(operation, has_tenant=tenant_id is not None)


@register.filter
def audit_details(parameters: object) -> list[tuple[str, str]]:
    """Return an audit entry's parameters as (label, text) pairs."""
    return labels.audit_details(parameters)


@register.filter
def policy_type_label(policy_type: str) -> str:
    """Return the label of a policy type, such as "DNS protection"."""
    return policies.policy_type_label(policy_type)
