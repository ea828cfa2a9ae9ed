"""List, create, detail/edit and delete pages for one Sophos collection.

A ``Collection`` names the service functions, forms and table of one kind
of item (scanning exclusions, allowed items, local sites, ...), and
``collection_urls`` turns it into four URL patterns:

    <path>                  list (GET; ``?format=csv`` exports it)
    <path>new/              create form (GET, POST)
    <path><id>/             detail, and the edit form if the API allows one
    <path><id>/delete/      confirmation (GET) and delete (POST)

Every page reads live from Sophos. Writes resolve the tenant with
``write=True``, so a read-only user gets 403 and nothing is sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import push_url, reswap, retarget

from portal.tenants.common import (
    ConfirmDelete,
    HtmxHttpRequest,
    Table,
    add_sophos_error,
    cell_text,
    live_table_page,
    render_page,
    sophos_error_text,
    tenant_context,
    tenant_for,
)
from sophos.errors import NotFound, SophosError
from sophos.models import Tenant
from sophos.services.resources import Listing

T = TypeVar("T")
User = AbstractBaseUser | AnonymousUser

LIST_TEMPLATE = "tenants/collection_list.html"
FORM_TEMPLATE = "tenants/collection_form.html"
DETAIL_TEMPLATE = "tenants/collection_detail.html"
CONFIRM_TEMPLATE = "tenants/confirm_delete.html"


class ItemForm(forms.Form):
    """A create or edit form whose Sophos errors can point at one field."""

    def error_field(self, error: SophosError) -> str | None:
        """Return the field a rejected request is shown beside, or None."""
        return None


@dataclass(frozen=True)
class Collection(Generic[T]):
    """One kind of tenant item and the services that read and change it."""

    # Prefix of the URL names: "<key>_list", "<key>_create", ...
    key: str
    # URL path below /tenants/<uuid>/, with a trailing slash.
    path: str
    title: str
    noun: str
    # The side navigation entry these pages mark as current.
    nav: str
    table: Table[T]
    list_items: Callable[[Tenant], Listing[T]]
    item_id: Callable[[T], str]
    # Names one item in headings and confirmations.
    item_label: Callable[[T], str]
    intro: str = ""
    # A template with links between related collections, shown above the
    # page heading.
    subnav: str = ""
    get_item: Callable[[Tenant, str], T] | None = None
    # Labelled values of the detail page.
    details: Callable[[T], Sequence[tuple[str, object]]] | None = None
    create_form: type[ItemForm] | None = None
    # Extra keyword arguments of both forms, such as live choices.
    form_kwargs: Callable[[Tenant], dict[str, Any]] | None = None
    create: Callable[[User, Tenant, dict[str, Any]], T] | None = None
    update_form: type[ItemForm] | None = None
    update_initial: Callable[[T], dict[str, Any]] | None = None
    # Receives the item as read before the change.
    update: Callable[[User, Tenant, T, dict[str, Any]], T] | None = None
    delete: Callable[[User, Tenant, str], None] | None = None
    # What is gone once the item is deleted, one sentence each.
    losses: Callable[[T], Sequence[str]] | None = None
    # Explains an API error on delete in the words of this collection.
    delete_error: Callable[[SophosError, T], str] | None = None
    # "uuid" for Sophos ids that are UUIDs, "str" otherwise.
    id_converter: str = "uuid"
    # False for a collection whose items have no page of their own, such as
    # the web categories.
    has_detail: bool = True
    # The plural of noun where adding "s" is wrong.
    plural: str = ""

    def url(self, action: str, tenant: Tenant, item_id: str | None = None) -> str:
        args: list[Any] = [tenant.pk]
        if item_id is not None:
            args.append(item_id)
        return reverse(f"tenants:{self.key}_{action}", args=args)

    @property
    def noun_plural(self) -> str:
        return self.plural or f"{self.noun}s"

    @property
    def table_id(self) -> str:
        return f"{self.key.replace('_', '-')}-table"


def collection_urls(collection: Collection[Any]) -> list[URLPattern]:
    """Return the URL patterns of a collection's pages."""
    item = f"<{collection.id_converter}:item_id>/"
    patterns = [
        path(collection.path, _list_view(collection), name=f"{collection.key}_list"),
    ]
    if collection.create is not None:
        patterns.append(
            path(
                f"{collection.path}new/",
                _create_view(collection),
                name=f"{collection.key}_create",
            )
        )
    if collection.get_item is not None and collection.has_detail:
        patterns.append(
            path(
                collection.path + item,
                _detail_view(collection),
                name=f"{collection.key}_detail",
            )
        )
    if collection.delete is not None:
        patterns.append(
            path(
                f"{collection.path}{item}delete/",
                _delete_view(collection),
                name=f"{collection.key}_delete",
            )
        )
    return patterns


# -- list --------------------------------------------------------------------------


def _list_view(collection: Collection[T]) -> Callable[..., HttpResponse]:
    @require_GET
    def view(request: HtmxHttpRequest, tenant_id: uuid.UUID) -> HttpResponse:
        tenant = tenant_for(request, tenant_id)
        return _list_response(request, collection, tenant)

    view.__name__ = f"{collection.key}_list"
    return view


def _list_response(
    request: HtmxHttpRequest,
    collection: Collection[T],
    tenant: Tenant,
    *,
    notice: str = "",
) -> HttpResponse:
    context = tenant_context(request, tenant, nav=collection.nav)
    context.update(_collection_context(collection, tenant))
    context["notice"] = notice

    def row_url(item: T) -> str:
        return collection.url("detail", tenant, collection.item_id(item))

    def row_delete_url(item: T) -> str:
        return collection.url("delete", tenant, collection.item_id(item))

    has_detail = collection.get_item is not None and collection.has_detail
    may_delete = collection.delete is not None and context["can_act"]
    return live_table_page(
        request,
        context,
        template=LIST_TEMPLATE,
        partial="collection-table",
        read=lambda: collection.list_items(tenant),
        table=collection.table,
        csv_name=f"{collection.key}-{tenant.pk}.csv",
        subject=f"{collection.key} list tenant {tenant.pk}",
        row_url=row_url if has_detail else None,
        row_delete_url=row_delete_url if may_delete else None,
    )


def _collection_context(collection: Collection[Any], tenant: Tenant) -> dict[str, Any]:
    return {
        "collection": collection,
        "subnav": collection.subnav,
        "subnav_current": collection.key,
        "section_title": collection.title,
        "list_url": collection.url("list", tenant),
        "create_url": collection.url("create", tenant) if collection.create else "",
        "can_delete": collection.delete is not None,
    }


# -- create ------------------------------------------------------------------------


def _create_view(collection: Collection[T]) -> Callable[..., HttpResponse]:
    assert collection.create_form is not None and collection.create is not None
    form_class = collection.create_form
    create = collection.create

    @require_http_methods(["GET", "POST"])
    def view(request: HtmxHttpRequest, tenant_id: uuid.UUID) -> HttpResponse:
        tenant = tenant_for(request, tenant_id, write=True)
        kwargs = collection.form_kwargs(tenant) if collection.form_kwargs else {}
        if request.method != "POST":
            form = form_class(**kwargs)
            return _form_page(request, collection, tenant, form)

        form = form_class(request.POST, **kwargs)
        if form.is_valid():
            try:
                item = create(request.user, tenant, form.cleaned_data)
            except SophosError as exc:
                add_sophos_error(form, exc, form.error_field(exc))
            else:
                messages.success(
                    request,
                    f"Added the {collection.noun} {collection.item_label(item)}.",
                )
                return _after_write(request, collection, tenant, item)
        return _form_page(request, collection, tenant, form)

    view.__name__ = f"{collection.key}_create"
    return view


def _after_write(
    request: HtmxHttpRequest, collection: Collection[T], tenant: Tenant, item: T
) -> HttpResponse:
    if collection.get_item is not None and collection.has_detail:
        url = collection.url("detail", tenant, collection.item_id(item))
    else:
        url = collection.url("list", tenant)
    return redirect(url)


def _form_page(
    request: HtmxHttpRequest,
    collection: Collection[Any],
    tenant: Tenant,
    form: forms.Form,
) -> HttpResponse:
    context = tenant_context(request, tenant, nav=collection.nav)
    context.update(_collection_context(collection, tenant))
    context["form"] = form
    context["heading"] = f"Add {_article(collection.noun)} {collection.noun}"
    context["action_url"] = collection.url("create", tenant)
    status = 200 if not form.is_bound or form.is_valid() else 400
    return render_page(request, FORM_TEMPLATE, "item-form", context, status=status)


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"


# -- detail and edit ---------------------------------------------------------------


def _detail_view(collection: Collection[T]) -> Callable[..., HttpResponse]:
    assert collection.get_item is not None
    get_item = collection.get_item

    @require_http_methods(["GET", "POST"])
    def view(
        request: HtmxHttpRequest, tenant_id: uuid.UUID, item_id: uuid.UUID | str
    ) -> HttpResponse:
        writing = request.method == "POST"
        if writing and collection.update is None:
            return HttpResponse(status=405, headers={"Allow": "GET"})
        tenant = tenant_for(request, tenant_id, write=writing)
        item = _item_or_404(get_item, tenant, str(item_id), collection)

        form: ItemForm | None = None
        if collection.update_form is not None and collection.update is not None:
            kwargs = collection.form_kwargs(tenant) if collection.form_kwargs else {}
            if writing:
                form = collection.update_form(request.POST, **kwargs)
                if form.is_valid():
                    updated = _update(request, collection, tenant, item, form)
                    if updated is not None:
                        messages.success(
                            request,
                            f"Saved the {collection.noun} "
                            f"{collection.item_label(updated)}.",
                        )
                        return redirect(collection.url("detail", tenant, str(item_id)))
            else:
                initial = (
                    collection.update_initial(item) if collection.update_initial else {}
                )
                form = collection.update_form(initial=initial, **kwargs)

        context = tenant_context(request, tenant, nav=collection.nav)
        context.update(_collection_context(collection, tenant))
        context.update(
            {
                "item": item,
                "item_label": collection.item_label(item),
                "details": _detail_texts(collection, item),
                "form": form,
                "action_url": collection.url("detail", tenant, str(item_id)),
                "delete_url": (
                    collection.url("delete", tenant, str(item_id))
                    if collection.delete
                    else ""
                ),
            }
        )
        status = 400 if form is not None and form.is_bound and form.errors else 200
        return render_page(
            request, DETAIL_TEMPLATE, "item-detail", context, status=status
        )

    view.__name__ = f"{collection.key}_detail"
    return view


def _detail_texts(collection: Collection[T], item: T) -> list[tuple[str, str]]:
    if collection.details is None:
        return []
    return [(label, cell_text(value)) for label, value in collection.details(item)]


def _update(
    request: HtmxHttpRequest,
    collection: Collection[T],
    tenant: Tenant,
    item: T,
    form: ItemForm,
) -> T | None:
    assert collection.update is not None
    try:
        return collection.update(request.user, tenant, item, form.cleaned_data)
    except SophosError as exc:
        add_sophos_error(form, exc, form.error_field(exc))
        return None


def _item_or_404(
    get_item: Callable[[Tenant, str], T],
    tenant: Tenant,
    item_id: str,
    collection: Collection[T],
) -> T:
    try:
        return get_item(tenant, item_id)
    except NotFound:
        raise Http404(
            f"No {collection.noun} with the id {item_id} in this tenant."
        ) from None


# -- delete ------------------------------------------------------------------------


def _delete_view(collection: Collection[T]) -> Callable[..., HttpResponse]:
    assert collection.delete is not None
    delete = collection.delete

    @require_http_methods(["GET", "POST"])
    def view(
        request: HtmxHttpRequest, tenant_id: uuid.UUID, item_id: uuid.UUID | str
    ) -> HttpResponse:
        tenant = tenant_for(request, tenant_id, write=True)
        key = str(item_id)
        item = (
            _item_or_404(collection.get_item, tenant, key, collection)
            if collection.get_item is not None
            else None
        )
        label = collection.item_label(item) if item is not None else key
        if request.method != "POST":
            confirm = _confirm(collection, tenant, key, item, label)
            return _confirm_page(request, collection, tenant, confirm)

        try:
            delete(request.user, tenant, key)
        except SophosError as exc:
            text = (
                collection.delete_error(exc, item)
                if collection.delete_error is not None and item is not None
                else sophos_error_text(exc)
            )
            confirm = _confirm(collection, tenant, key, item, label, error=exc)
            return _confirm_failed(request, collection, tenant, confirm, text)

        notice = f"Deleted the {collection.noun} {label}."
        if request.htmx:
            # The confirmation panel sits on the list page: refresh the list
            # in place and put its URL in the address bar.
            response = _list_response(request, collection, tenant, notice=notice)
            push_url(response, collection.url("list", tenant))
            return retarget(reswap(response, "outerHTML"), f"#{collection.table_id}")
        messages.success(request, notice)
        return redirect(collection.url("list", tenant))

    view.__name__ = f"{collection.key}_delete"
    return view


def confirm_delete_page(
    request: HtmxHttpRequest,
    tenant: Tenant,
    *,
    nav: str,
    section_title: str,
    list_url: str,
    confirm: Callable[[SophosError | None], ConfirmDelete],
    delete: Callable[[], object],
    deleted_message: str,
    **extra: Any,
) -> HttpResponse:
    """Ask before a delete on a page outside a collection (GET), and send the
    delete (POST).

    A delete that succeeds redirects to ``list_url`` with ``deleted_message``.
    A rejected one shows the confirmation again with the error, under the
    Sophos status, or 502 when no response arrived. ``extra`` adds to the
    page context, such as a subnav.
    """
    error: SophosError | None = None
    if request.method == "POST":
        try:
            delete()
        except SophosError as exc:
            error = exc
        else:
            messages.success(request, deleted_message)
            return redirect(list_url)

    context = tenant_context(
        request,
        tenant,
        nav=nav,
        confirm=confirm(error),
        section_title=section_title,
        list_url=list_url,
        **extra,
    )
    status = (error.status or 502) if error else 200
    return render_page(
        request, CONFIRM_TEMPLATE, "confirm-panel", context, status=status
    )


def _confirm(
    collection: Collection[T],
    tenant: Tenant,
    item_id: str,
    item: T | None,
    label: str,
    *,
    error: SophosError | None = None,
) -> ConfirmDelete:
    losses = collection.losses(item) if collection.losses and item is not None else ()
    has_detail = collection.get_item is not None and collection.has_detail
    return ConfirmDelete(
        title=f"Delete the {collection.noun} {label}?",
        subject=f"the {collection.noun} {label}",
        losses=losses,
        action_url=collection.url("delete", tenant, item_id),
        cancel_url=(
            collection.url("detail", tenant, item_id)
            if has_detail
            else collection.url("list", tenant)
        ),
        hx_target=f"#{collection.table_id}",
        error=error,
    )


def _confirm_page(
    request: HtmxHttpRequest,
    collection: Collection[Any],
    tenant: Tenant,
    confirm: ConfirmDelete,
    *,
    error_text: str = "",
    status: int = 200,
) -> HttpResponse:
    context = tenant_context(request, tenant, nav=collection.nav)
    context.update(_collection_context(collection, tenant))
    context["confirm"] = confirm
    context["error_text"] = error_text
    return render_page(
        request, CONFIRM_TEMPLATE, "confirm-panel", context, status=status
    )


def _confirm_failed(
    request: HtmxHttpRequest,
    collection: Collection[Any],
    tenant: Tenant,
    confirm: ConfirmDelete,
    text: str,
) -> HttpResponse:
    # htmx swaps only 2xx responses by default, so the failed delete returns
    # 200 to htmx and moves the swap to the confirmation panel. A plain page
    # gets the Sophos status, or 502 when no response arrived.
    sophos_status = confirm.error.status if confirm.error else None
    status = 200 if request.htmx else (sophos_status or 502)
    response = _confirm_page(
        request, collection, tenant, confirm, error_text=text, status=status
    )
    if request.htmx:
        retarget(reswap(response, "outerHTML"), "#confirm-panel")
    return response
