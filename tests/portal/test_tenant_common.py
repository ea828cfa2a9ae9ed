import csv
import datetime
import io
from dataclasses import dataclass

import pytest
from django import forms
from django.test import RequestFactory

from portal.tenants.common import (
    PAGE_SIZE,
    Column,
    Filter,
    Table,
    add_sophos_error,
    cell_text,
    csv_response,
    csv_safe,
    sophos_error_text,
    table_for,
)
from sophos.errors import Conflict, TransportError


@dataclass(frozen=True)
class Row:
    name: str
    kind: str
    count: int | None
    tags: tuple[str, ...] = ()


TABLE = Table[Row](
    columns=(
        Column("name", "Name", lambda row: row.name),
        Column("kind", "Kind", lambda row: row.kind),
        Column("count", "Count", lambda row: row.count, numeric=True),
        Column("tags", "Tags", lambda row: row.tags, sortable=False),
    ),
    default_sort="name",
    search=lambda row: (row.name, *row.tags),
    filters=(
        Filter("kind", "Kind", (("a", "A"), ("b", "B")), lambda row: row.kind),
        Filter("tag", "Tag", (("red", "Red"),), lambda row: row.tags),
    ),
)

ROWS = [
    Row("charlie", "a", 3, ("red",)),
    Row("Alpha", "b", None),
    Row("bravo", "a", 10, ("blue",)),
]


def _result(query: str = "", rows=ROWS):
    request = RequestFactory().get("/list/" + (f"?{query}" if query else ""))
    return table_for(request, rows, TABLE)


def _names(result) -> list[str]:
    return [row.item.name for row in result.rows]


def test_table_default_sort_ignores_case():
    result = _result()

    assert _names(result) == ["Alpha", "bravo", "charlie"]
    assert result.sort == "name"
    assert result.total == 3


def test_table_sort_descending_keeps_empty_last():
    assert _names(_result("sort=-count")) == ["bravo", "charlie", "Alpha"]
    assert _names(_result("sort=count")) == ["charlie", "bravo", "Alpha"]


def test_table_unknown_sort_falls_back():
    result = _result("sort=__class__")

    assert result.sort == "name"
    assert _names(result) == ["Alpha", "bravo", "charlie"]


def test_table_unsortable_column_is_rejected():
    assert _result("sort=tags").sort == "name"


def test_table_search_is_case_insensitive():
    result = _result("q=ALP")

    assert _names(result) == ["Alpha"]
    assert result.filtered


def test_table_search_looks_in_tags():
    assert _names(_result("q=blu")) == ["bravo"]


def test_table_choice_filter():
    assert _names(_result("kind=a")) == ["bravo", "charlie"]


def test_table_filter_on_several_values():
    assert _names(_result("tag=red")) == ["charlie"]


def test_table_unknown_filter_value_is_ignored():
    result = _result("kind=zzz")

    assert len(result.rows) == 3
    assert result.filters[0].selected == ""
    assert not result.filtered


def test_table_paginates():
    rows = [Row(f"row{number:03d}", "a", number) for number in range(PAGE_SIZE + 5)]

    first = _result(rows=rows)
    second = _result("page=2", rows=rows)
    beyond = _result("page=99", rows=rows)

    assert len(first.rows) == PAGE_SIZE
    assert len(second.rows) == 5
    assert beyond.page.number == 2
    assert len(first.matched) == PAGE_SIZE + 5


def test_table_row_urls():
    request = RequestFactory().get("/list/")

    result = table_for(
        request,
        ROWS,
        TABLE,
        row_url=lambda row: f"/items/{row.name}/",
        row_delete_url=lambda row: f"/items/{row.name}/delete/",
    )

    assert result.rows[0].url == "/items/Alpha/"
    assert result.rows[0].delete_url == "/items/Alpha/delete/"


def test_cell_text_formats_values():
    moment = datetime.datetime(2025, 1, 2, 3, 4, tzinfo=datetime.UTC)

    assert cell_text(None) == ""
    assert cell_text(True) == "Yes"
    assert cell_text(False) == "No"
    assert cell_text(("a", "b")) == "a, b"
    assert cell_text(moment) == "2025-01-02 03:04 UTC"
    assert cell_text(7) == "7"


@pytest.mark.parametrize(
    "text",
    ["=1+1", "+1", "-1", "@SUM(A1)", "\tcmd", "\rcmd", '=HYPERLINK("x")'],
)
def test_csv_safe_neutralises_formulas(text):
    assert csv_safe(text) == "'" + text


@pytest.mark.parametrize("text", ["plain", "", "1-2", "a=b", "'quoted"])
def test_csv_safe_keeps_plain_text(text):
    assert csv_safe(text) == text


def test_csv_response_exports_filtered_rows():
    rows = [*ROWS, Row("=cmd|' /C calc'!A0", "a", -5)]

    response = csv_response("rows.csv", _result("kind=a&sort=-count", rows=rows))

    body = list(csv.reader(io.StringIO(response.content.decode())))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="rows.csv"'
    assert body[0] == ["Name", "Kind", "Count", "Tags"]
    assert body[1] == ["bravo", "a", "10", "blue"]
    assert body[2] == ["charlie", "a", "3", "red"]
    assert body[3] == ["'=cmd|' /C calc'!A0", "a", "'-5", ""]
    assert len(body) == 4


def test_sophos_error_text_with_correlation_id():
    error = Conflict("Item already exists.", status=409, correlation_id="c-1")

    assert sophos_error_text(error) == "Item already exists. (correlation id c-1)"


def test_sophos_error_text_without_correlation_id():
    error = TransportError("Timed out.")

    assert sophos_error_text(error) == "Timed out."


class _Form(forms.Form):
    sha256 = forms.CharField()


def test_add_sophos_error_beside_field():
    form = _Form({"sha256": "x"})
    form.is_valid()

    add_sophos_error(
        form, Conflict("Duplicate.", status=409, correlation_id="c-2"), "sha256"
    )

    assert form.errors["sha256"] == ["Duplicate. (correlation id c-2)"]


def test_add_sophos_error_without_field():
    form = _Form({"sha256": "x"})
    form.is_valid()

    add_sophos_error(form, Conflict("Duplicate.", status=409))

    assert form.non_field_errors() == ["Duplicate."]


CODE_TABLE = Table[Row](
    columns=(
        Column("name", "Name", lambda row: row.name),
        Column("kind", "Kind", lambda row: row.kind, code=True),
        Column("tags", "Tags", lambda row: row.tags, sortable=False, code=True),
    ),
    default_sort="name",
)


def test_code_column_shows_labels():
    request = RequestFactory().get("/list/")
    rows = [Row("alpha", "notInstalled", None, ("coreAgent", "xdr"))]

    result = table_for(request, rows, CODE_TABLE)

    cells = [cell.text for cell in result.rows[0].cells]
    assert cells == ["alpha", "Not installed", "Core Agent, XDR"]


def test_code_column_csv_keeps_codes():
    request = RequestFactory().get("/list/")
    rows = [Row("alpha", "notInstalled", None, ("coreAgent", "xdr"))]

    response = csv_response("rows.csv", table_for(request, rows, CODE_TABLE))

    body = list(csv.reader(io.StringIO(response.content.decode())))
    assert body[1] == ["alpha", "notInstalled", "coreAgent, xdr"]
