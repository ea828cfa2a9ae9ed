"""Directory users and user groups: list, add, view and edit, delete, and
the memberships between them. Every page reads live from Sophos.

Users and groups synced from Active Directory or Azure AD are read-only:
their pages state that and offer no edit, delete or membership controls.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from portal.tenants.common import (
    Column,
    Filter,
    HtmxHttpRequest,
    Table,
    add_sophos_error,
    render_page,
    table_for,
    tenant_context,
    tenant_for,
)
from portal.tenants.crud import Collection, ItemForm, User, collection_urls
from portal.tenants.forms import directory as directory_forms
from sophos.errors import NotFound, SophosError
from sophos.models import Tenant
from sophos.services import directory
from sophos.services.directory import DirectoryUser, MembershipChange, UserGroup

logger = logging.getLogger(__name__)

Item = TypeVar("Item", DirectoryUser, UserGroup)

DETAIL_TEMPLATE = "tenants/directory_detail.html"
SOURCE_CHOICES = list(directory.SOURCE_TYPES.items())


def _url(name: str, tenant: Tenant, *args: Any) -> str:
    return reverse(f"tenants:{name}", args=[tenant.pk, *args])


def _group_choices(tenant: Tenant) -> list[tuple[str, str]]:
    """Return the custom groups a user can be put in, as form choices."""
    groups = directory.user_groups_list(tenant=tenant).items
    return sorted(
        ((group.id, group.name) for group in groups if group.editable),
        key=lambda choice: choice[1].casefold(),
    )


def _user_choices(tenant: Tenant) -> list[tuple[str, str]]:
    """Return the custom users that can join a group, as form choices."""
    users = directory.users_list(tenant=tenant).items
    return sorted(
        ((user.id, _user_label(user)) for user in users if user.editable),
        key=lambda choice: choice[1].casefold(),
    )


def _user_label(user: DirectoryUser) -> str:
    return f"{user.name} ({user.email})" if user.email else user.name or user.id


# -- users ---------------------------------------------------------------------------


def _user_create(user: User, tenant: Tenant, data: dict[str, Any]) -> DirectoryUser:
    return directory.user_create(
        user=user,
        tenant=tenant,
        name=data["name"],
        first_name=data["first_name"],
        last_name=data["last_name"],
        email=data["email"],
        exchange_login=data["exchange_login"],
        group_ids=data.get("groups") or [],
    )


def _user_losses(item: DirectoryUser) -> list[str]:
    losses = ["The user is removed from every group it belongs to."]
    if item.group_count:
        losses[0] = f"The user leaves its {item.group_count} group(s)."
    losses.append(
        "An admin account based on this user loses its access to Sophos Central."
    )
    return losses


USERS = Collection[DirectoryUser](
    key="directory_users",
    path="directory/users/",
    title="Directory users",
    noun="user",
    nav="directory_users",
    intro="People in this tenant's directory. Users synced from Active Directory "
    "or Azure AD are read-only here; change them in that directory.",
    table=Table(
        columns=(
            Column("name", "Name", lambda row: row.name),
            Column("email", "Email", lambda row: row.email),
            Column("exchange_login", "Exchange login", lambda row: row.exchange_login),
            Column("source", "Source", lambda row: row.source_label),
            Column("domain", "Domain", lambda row: row.domain),
            Column("updated", "Updated", lambda row: row.updated_at),
        ),
        default_sort="name",
        search=lambda row: (row.name, row.email, row.exchange_login),
        search_help="Name, email or Exchange login",
        filters=(
            Filter(
                "source",
                "Source",
                SOURCE_CHOICES,
                lambda row: row.source_type or directory.CUSTOM_SOURCE,
            ),
        ),
    ),
    list_items=lambda tenant: directory.users_list(tenant=tenant),
    item_id=lambda item: item.id,
    item_label=lambda item: item.name or item.id,
    get_item=lambda tenant, item_id: directory.user_get(tenant=tenant, user_id=item_id),
    create_form=directory_forms.DirectoryUserCreateForm,
    form_kwargs=lambda tenant: {"groups": _group_choices(tenant)},
    create=_user_create,
    delete=lambda user, tenant, item_id: directory.user_delete(
        user=user, tenant=tenant, user_id=item_id
    ),
    losses=_user_losses,
)


def _group_create(user: User, tenant: Tenant, data: dict[str, Any]) -> UserGroup:
    return directory.user_group_create(
        user=user,
        tenant=tenant,
        name=data["name"],
        description=data["description"],
        user_ids=data.get("members") or [],
    )


def _group_losses(item: UserGroup) -> list[str]:
    losses = ["Policies and rules that name this group no longer apply to anyone."]
    if item.member_count:
        losses.append(
            f"Sophos Central deletes only empty groups, and this one has "
            f"{item.member_count} member(s): remove them first."
        )
    return losses


def _group_delete_error(error: SophosError, item: UserGroup) -> str:
    if error.status == 409 and item.editable:
        return (
            f"The group {item.name} still has members, and Sophos Central deletes "
            f"only empty groups. Remove its {item.member_count or 'remaining'} "
            "member(s) on the group's page, then delete it."
        )
    return error.message


USER_GROUPS = Collection[UserGroup](
    key="user_groups",
    path="directory/user-groups/",
    title="User groups",
    noun="user group",
    nav="user_groups",
    intro="Groups of directory users. Groups synced from Active Directory or "
    "Azure AD are read-only here.",
    table=Table(
        columns=(
            Column("name", "Name", lambda row: row.name),
            Column("description", "Description", lambda row: row.description),
            Column("source", "Source", lambda row: row.source_label),
            Column("domain", "Domain", lambda row: row.domain),
            Column("updated", "Updated", lambda row: row.updated_at),
        ),
        default_sort="name",
        search=lambda row: (row.name, row.description),
        search_help="Name or description",
        filters=(
            Filter(
                "source",
                "Source",
                SOURCE_CHOICES,
                lambda row: row.source_type or directory.CUSTOM_SOURCE,
            ),
        ),
    ),
    list_items=lambda tenant: directory.user_groups_list(tenant=tenant),
    item_id=lambda item: item.id,
    item_label=lambda item: item.name or item.id,
    get_item=lambda tenant, item_id: directory.user_group_get(
        tenant=tenant, group_id=item_id
    ),
    create_form=directory_forms.UserGroupCreateForm,
    form_kwargs=lambda tenant: {"users": _user_choices(tenant)},
    create=_group_create,
    delete=lambda user, tenant, item_id: directory.user_group_delete(
        user=user, tenant=tenant, group_id=item_id
    ),
    losses=_group_losses,
    delete_error=_group_delete_error,
)


# -- detail pages with memberships ---------------------------------------------------


@dataclass(frozen=True)
class Related:
    """One row of a membership table: a group of a user, or a member."""

    id: str
    name: str
    detail: str
    source: str
    url: str


@dataclass(frozen=True)
class ChangeShown:
    """The outcome of an add or remove, with names in place of ids."""

    verb: str
    changed: list[str]
    not_found: list[str]


@dataclass(frozen=True)
class DetailPage:
    """The parts in which the user page and the group page differ."""

    collection: Collection[Any]
    kind: str
    related_title: str
    related_noun: str
    add_url: str
    remove_url: str
    details: Sequence[tuple[str, object]]


def _shown(verb: str, change: MembershipChange, names: dict[str, str]) -> ChangeShown:
    return ChangeShown(
        verb=verb,
        changed=[names.get(item_id, item_id) for item_id in change.changed],
        not_found=[names.get(item_id, item_id) for item_id in change.not_found],
    )


def _user_or_404(tenant: Tenant, item_id: str) -> DirectoryUser:
    try:
        return directory.user_get(tenant=tenant, user_id=item_id)
    except NotFound:
        raise Http404("No directory user with this id in this tenant.") from None


def _group_or_404(tenant: Tenant, item_id: str) -> UserGroup:
    try:
        return directory.user_group_get(tenant=tenant, group_id=item_id)
    except NotFound:
        raise Http404("No user group with this id in this tenant.") from None


def _user_details(item: DirectoryUser) -> list[tuple[str, object]]:
    return [
        ("Name", item.name),
        ("First name", item.first_name),
        ("Last name", item.last_name),
        ("Email", item.email),
        ("Exchange login", item.exchange_login),
        ("Domain", item.domain),
        ("Source", item.source_label),
        ("Created", item.created_at),
        ("Updated", item.updated_at),
        ("Id", item.id),
    ]


def _group_details(item: UserGroup) -> list[tuple[str, object]]:
    return [
        ("Name", item.name),
        ("Description", item.description),
        ("Domain", item.domain),
        ("Source", item.source_label),
        ("Created", item.created_at),
        ("Updated", item.updated_at),
        ("Id", item.id),
    ]


def _user_page(tenant: Tenant, item: DirectoryUser) -> DetailPage:
    return DetailPage(
        collection=USERS,
        kind="user",
        related_title="Groups",
        related_noun="group",
        add_url=_url("directory_user_groups_add", tenant, item.id),
        remove_url=_url("directory_user_groups_remove", tenant, item.id),
        details=_user_details(item),
    )


def _group_page(tenant: Tenant, item: UserGroup) -> DetailPage:
    return DetailPage(
        collection=USER_GROUPS,
        kind="user group",
        related_title="Members",
        related_noun="member",
        add_url=_url("user_group_members_add", tenant, item.id),
        remove_url=_url("user_group_members_remove", tenant, item.id),
        details=_group_details(item),
    )


def _user_related(tenant: Tenant, item: DirectoryUser) -> list[Related]:
    groups = directory.user_memberships_list(tenant=tenant, user_id=item.id).items
    return [
        Related(
            id=group.id,
            name=group.name or group.id,
            detail=group.description,
            source=group.source_label,
            url=_url("user_groups_detail", tenant, group.id),
        )
        for group in groups
    ]


def _group_related(tenant: Tenant, item: UserGroup) -> list[Related]:
    users = directory.user_group_users_list(tenant=tenant, group_id=item.id).items
    return [
        Related(
            id=user.id,
            name=user.name or user.id,
            detail=user.email,
            source=user.source_label,
            url=_url("directory_users_detail", tenant, user.id),
        )
        for user in users
    ]


RELATED_TABLE: Table[Related] = Table(
    columns=(
        Column("name", "Name", lambda row: row.name),
        Column("detail", "Description or email", lambda row: row.detail),
        Column("source", "Source", lambda row: row.source),
    ),
    default_sort="name",
    search=lambda row: (row.name, row.detail),
    search_help="Name",
)


def _user_update(
    user: User, tenant: Tenant, item: DirectoryUser, data: dict[str, Any]
) -> DirectoryUser:
    return directory.user_update(
        user=user,
        tenant=tenant,
        user_id=item.id,
        name=data["name"],
        first_name=data["first_name"],
        last_name=data["last_name"],
        email=data["email"],
        exchange_login=data["exchange_login"],
    )


def _group_update(
    user: User, tenant: Tenant, item: UserGroup, data: dict[str, Any]
) -> UserGroup:
    return directory.user_group_update(
        user=user,
        tenant=tenant,
        group_id=item.id,
        name=data["name"],
        description=data["description"],
    )


@dataclass(frozen=True)
class DirectoryPages(Generic[Item]):
    """The reads, edits and membership changes of the user pages or of the
    user group pages. A membership joins a user and a user group."""

    get: Callable[[Tenant, str], Item]
    page: Callable[[Tenant, Item], DetailPage]
    related: Callable[[Tenant, Item], list[Related]]
    # The custom items of the other side, which memberships can add.
    other_choices: Callable[[Tenant], list[tuple[str, str]]]
    edit_form: type[ItemForm]
    edit_initial: Callable[[Item], dict[str, Any]]
    update: Callable[[User, Tenant, Item, dict[str, Any]], Item]
    add: Callable[[User, Tenant, Item, list[str]], MembershipChange]
    remove: Callable[[User, Tenant, Item, list[str]], MembershipChange]


USER_PAGES = DirectoryPages[DirectoryUser](
    get=_user_or_404,
    page=_user_page,
    related=_user_related,
    other_choices=_group_choices,
    edit_form=directory_forms.DirectoryUserForm,
    edit_initial=lambda item: {
        "name": item.name,
        "first_name": item.first_name,
        "last_name": item.last_name,
        "email": item.email,
        "exchange_login": item.exchange_login,
    },
    update=_user_update,
    add=lambda user, tenant, item, ids: directory.user_memberships_add(
        user=user, tenant=tenant, user_id=item.id, group_ids=ids
    ),
    remove=lambda user, tenant, item, ids: directory.user_memberships_remove(
        user=user, tenant=tenant, user_id=item.id, group_ids=ids
    ),
)

GROUP_PAGES = DirectoryPages[UserGroup](
    get=_group_or_404,
    page=_group_page,
    related=_group_related,
    other_choices=_user_choices,
    edit_form=directory_forms.UserGroupForm,
    edit_initial=lambda item: {"name": item.name, "description": item.description},
    update=_group_update,
    add=lambda user, tenant, item, ids: directory.user_group_users_add(
        user=user, tenant=tenant, group_id=item.id, user_ids=ids
    ),
    remove=lambda user, tenant, item, ids: directory.user_group_users_remove(
        user=user, tenant=tenant, group_id=item.id, user_ids=ids
    ),
)


def _add_choices(
    pages: DirectoryPages[Item], tenant: Tenant, current: set[str]
) -> list[tuple[str, str]]:
    """Return the other side's custom items that are not related yet."""
    return [
        choice for choice in pages.other_choices(tenant) if choice[0] not in current
    ]


def _detail_response(
    request: HtmxHttpRequest,
    pages: DirectoryPages[Item],
    tenant: Tenant,
    item: Item,
    *,
    form: ItemForm | None = None,
    extra: dict[str, Any] | None = None,
    partial: str = "related-table",
    status: int = 200,
) -> HttpResponse:
    page = pages.page(tenant, item)
    context = tenant_context(
        request,
        tenant,
        nav=page.collection.nav,
        collection=page.collection,
        page=page,
        item=item,
        item_label=item.name or item.id,
        list_url=page.collection.url("list", tenant),
        detail_url=page.collection.url("detail", tenant, item.id),
        delete_url=page.collection.url("delete", tenant, item.id),
        form=form,
        **(extra or {}),
    )
    try:
        rows = pages.related(tenant, item)
    except SophosError as exc:
        logger.warning("%s %s memberships failed: %s", page.kind, item.id, exc)
        context["related_error"] = exc
        return render_page(request, DETAIL_TEMPLATE, partial, context, status=status)

    context["result"] = table_for(request, rows, RELATED_TABLE)
    context["may_change"] = context["can_act"] and item.editable
    if context["may_change"] and "add_form" not in context:
        try:
            choices = _add_choices(pages, tenant, {row.id for row in rows})
        except SophosError as exc:
            logger.warning("%s %s choices failed: %s", page.kind, item.id, exc)
            choices = []
        context["add_form"] = directory_forms.ChoicesAddForm(
            choices=choices, label=f"Add {page.related_noun}s"
        )
    return render_page(request, DETAIL_TEMPLATE, partial, context, status=status)


def _detail_page(
    request: HtmxHttpRequest,
    pages: DirectoryPages[Item],
    tenant_id: uuid.UUID,
    item_id: uuid.UUID,
) -> HttpResponse:
    """Show a user or user group with its memberships, and save its edit form.

    A synced item has no edit form, so a POST to it returns 409.
    """
    writing = request.method == "POST"
    tenant = tenant_for(request, tenant_id, write=writing)
    item = pages.get(tenant, str(item_id))
    form = None
    status = 200
    if item.editable and writing:
        form = pages.edit_form(request.POST)
    elif item.editable:
        form = pages.edit_form(initial=pages.edit_initial(item))
    elif writing:
        status = 409

    if writing and form is not None:
        if form.is_valid():
            try:
                updated = pages.update(request.user, tenant, item, form.cleaned_data)
            except SophosError as exc:
                add_sophos_error(form, exc, form.error_field(exc))
            else:
                page = pages.page(tenant, item)
                messages.success(request, f"Saved the {page.kind} {updated.name}.")
                return redirect(page.collection.url("detail", tenant, item.id))
        status = 400

    return _detail_response(
        request,
        pages,
        tenant,
        item,
        form=form,
        partial="item-page" if writing else "related-table",
        status=status,
    )


@require_http_methods(["GET", "POST"])
def directory_user_detail(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, item_id: uuid.UUID
) -> HttpResponse:
    return _detail_page(request, USER_PAGES, tenant_id, item_id)


@require_http_methods(["GET", "POST"])
def user_group_detail(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, item_id: uuid.UUID
) -> HttpResponse:
    return _detail_page(request, GROUP_PAGES, tenant_id, item_id)


def _membership_write(
    request: HtmxHttpRequest,
    pages: DirectoryPages[Item],
    tenant_id: uuid.UUID,
    item_id: uuid.UUID,
    *,
    adding: bool,
) -> HttpResponse:
    """Add or remove memberships, then show the table with the outcome."""
    tenant = tenant_for(request, tenant_id, write=True)
    item = pages.get(tenant, str(item_id))
    page = pages.page(tenant, item)
    extra: dict[str, Any] = {}
    status = 200
    choices = _add_choices(pages, tenant, set()) if adding else []
    form: directory_forms.ChoicesAddForm | directory_forms.SelectedRemoveForm
    if adding:
        form = directory_forms.ChoicesAddForm(
            request.POST, choices=choices, label=f"Add {page.related_noun}s"
        )
    else:
        form = directory_forms.SelectedRemoveForm(request.POST)

    if not item.editable:
        extra["membership_message"] = (
            f"This {page.kind} is synced from {item.source_label} and is read-only "
            "here: change its memberships in that directory."
        )
        status = 409
    elif not form.is_valid():
        extra["membership_message"] = " ".join(
            str(e) for e in form.errors.get("ids", [])
        )
        status = 400
    else:
        chosen: list[str] = form.cleaned_data["ids"]
        write = pages.add if adding else pages.remove
        try:
            change = write(request.user, tenant, item, chosen)
        except SophosError as exc:
            extra["membership_error"] = exc
        else:
            # Adding already read the choices, and removing reads them only
            # now, once Sophos has accepted the change.
            known = dict(choices) if adding else dict(pages.other_choices(tenant))
            verb = "Added" if adding else "Removed"
            extra["change"] = _shown(verb, change, known)
            if not request.htmx:
                messages.success(
                    request,
                    f"{verb} {len(change.changed)} {page.related_noun}(s)."
                    + (
                        f" Not found: {', '.join(extra['change'].not_found)}."
                        if change.not_found
                        else ""
                    ),
                )
                return redirect(page.collection.url("detail", tenant, item.id))

    if adding and "change" not in extra and "membership_error" in extra:
        extra["add_form"] = form
    return _detail_response(request, pages, tenant, item, extra=extra, status=status)


@require_POST
def directory_user_groups_add(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, item_id: uuid.UUID
) -> HttpResponse:
    return _membership_write(request, USER_PAGES, tenant_id, item_id, adding=True)


@require_POST
def directory_user_groups_remove(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, item_id: uuid.UUID
) -> HttpResponse:
    return _membership_write(request, USER_PAGES, tenant_id, item_id, adding=False)


@require_POST
def user_group_members_add(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, item_id: uuid.UUID
) -> HttpResponse:
    return _membership_write(request, GROUP_PAGES, tenant_id, item_id, adding=True)


@require_POST
def user_group_members_remove(
    request: HtmxHttpRequest, tenant_id: uuid.UUID, item_id: uuid.UUID
) -> HttpResponse:
    return _membership_write(request, GROUP_PAGES, tenant_id, item_id, adding=False)


def _without_detail(patterns: list[URLPattern], name: str) -> list[URLPattern]:
    """Drop the generic detail page, which a custom one replaces."""
    return [pattern for pattern in patterns if pattern.name != name]


urlpatterns = [
    *_without_detail(collection_urls(USERS), "directory_users_detail"),
    path(
        "directory/users/<uuid:item_id>/",
        directory_user_detail,
        name="directory_users_detail",
    ),
    path(
        "directory/users/<uuid:item_id>/groups/add/",
        directory_user_groups_add,
        name="directory_user_groups_add",
    ),
    path(
        "directory/users/<uuid:item_id>/groups/remove/",
        directory_user_groups_remove,
        name="directory_user_groups_remove",
    ),
    *_without_detail(collection_urls(USER_GROUPS), "user_groups_detail"),
    path(
        "directory/user-groups/<uuid:item_id>/",
        user_group_detail,
        name="user_groups_detail",
    ),
    path(
        "directory/user-groups/<uuid:item_id>/members/add/",
        user_group_members_add,
        name="user_group_members_add",
    ),
    path(
        "directory/user-groups/<uuid:item_id>/members/remove/",
        user_group_members_remove,
        name="user_group_members_remove",
    ),
]
