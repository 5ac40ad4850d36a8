"""Catalog numbers are read by the business country's conventions, or refused for their row: never 1000x off."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from storage.catalog_import import parse_catalog
from storage.numbers import AmountError, DotStyle, parse_amount, parse_quantity
from tests.conftest import make_settings, running

ROOT = Path(__file__).resolve().parent.parent
HEADER = "sku,name,description,category,price,stock\n"

READ = [
    # Argentina: decimal comma, dot thousands.
    ("8.900", "AR", "8900"), ("8.900,50", "AR", "8900.50"), ("$ 8.900", "AR", "8900"), ("8.900 $", "AR", "8900"),
    ("ARS 8.900,50", "AR", "8900.50"), ("ars8.900,5", "AR", "8900.5"), ("1.250.000", "AR", "1250000"),
    ("1.250.000,99", "AR", "1250000.99"), ("8,5", "AR", "8.5"), ("0,99", "AR", "0.99"), ("8900", "AR", "8900"),
    ("8 900,50", "AR", "8900.50"), ("0", "AR", "0"),
    # A raw spreadsheet number: a dot after 4+ digits (or a lone 0) is no thousands separator.
    ("8900.50", "AR", "8900.50"), ("12500.00", "AR", "12500.00"), ("8900.5", "AR", "8900.5"), ("0.99", "AR", "0.99"),
    # Colombia: the same convention; space thousands too.
    ("8 900,50", "CO", "8900.50"), ("8\u00a0900,50", "CO", "8900.50"), ("$ 45.000", "CO", "45000"),
    ("COP 1.200.000", "CO", "1200000"), ("1.200.000 COP", "CO", "1200000"), ("8900", "CO", "8900"),
    ("3.200,5", "CO", "3200.5"), ("COL$ 12.500", "CO", "12500"),
    # Mexico: decimal point, comma thousands.
    ("1,250", "MX", "1250"), ("1,250.50", "MX", "1250.50"), ("$1,250,000.99", "MX", "1250000.99"),
    ("899.90", "MX", "899.90"), ("MXN 1,250", "MX", "1250"), ("1 250.50", "MX", "1250.50"), ("8.9", "MX", "8.9"),
    # United States.
    ("US$1,250.50", "US", "1250.50"), ("$ 1,250", "US", "1250"), ("1,250", "US", "1250"), ("0.99", "US", "0.99"),
    ("1250.5 USD", "US", "1250.5"), ("12,345,678.90", "US", "12345678.90"),
    # Elsewhere, by CLDR's symbols.
    ("S/ 1,250.50", "PE", "1250.50"), ("R$ 1.250,50", "BR", "1250.50"), ("1'250.50", "CH", "1250.50"),
    ("8\u202f900,50 €", "FR", "8900.50"), ("₲ 150.000", "PY", "150000"),
]
REFUSED = [
    # A dot before 1-2 digits in a dot-thousands country: a decimal point written the US way, or a group missing a digit?
    ("8.90", "AR", "ambiguous in AR: '.' separates thousands there and a thousands group has 3 digits; write 8,90"),
    ("700.00", "AR", "ambiguous in AR"), ("8.9", "CO", "ambiguous in CO"),
    # The decimal mark before 3 digits: 1.25 with three decimals, or 1250 written the other way?
    ("1,250", "AR", "ambiguous in AR: ',' is the decimal mark there, which leaves 3 decimals; write 1.250"),
    ("1,250", "CO", "ambiguous in CO"), ("1.250", "MX", "ambiguous in MX: '.' is the decimal mark there"),
    ("1.250", "US", "write 1,250 if it is thousands"),
    # A comma before 1-2 digits where the comma separates thousands.
    ("1,25", "MX", "ambiguous in MX: ',' separates thousands there and a thousands group has 3 digits; write 1.25"),
    ("8900,50", "US", "ambiguous in US"),
    # The decimal mark written more than once.
    ("1,250,000", "AR", "',' is the decimal mark there and it appears 2 times"), ("1.250.000", "MX", "appears 2 times"),
    # Both separators, in the other country's order.
    ("1,250.50", "AR", "wrong order for AR"), ("1,250.50", "CO", "wrong order for CO"),
    ("8.900,50", "MX", "wrong order for MX"), ("8.900,50", "US", "wrong order for US"), ("8 900.50", "AR", "wrong order"),
    # Malformed groups, mixed separators, too many decimals.
    ("8.90.0", "AR", "thousands groups separated by '.' have 3 digits"), ("1.25.000,00", "AR", "3 digits"),
    ("12 50", "CO", "3 digits"), ("1,2,3", "MX", "3 digits"), ("1.250,5,0", "AR", "mixes separators"),
    ("12,3456", "AR", "4 decimals; at most 2"), ("1.2345", "US", "4 decimals; at most 2"),
    # Signs, words, multipliers, exponents, empty.
    ("-5", "AR", "negative"), ("5-", "AR", "negative"), ("$ -8.900", "AR", "negative"), ("(1,250.00)", "US", "negative"),
    ("+5", "MX", "has a sign"), ("12k", "US", "'k' is not a currency"), ("8 mil", "AR", "'mil' is not a currency"),
    ("1e5", "US", "not a number"), ("abc", "AR", "not a number"), ("$", "AR", "not a number"), (".50", "US", "starts or ends"),
    ("NaN", "US", "not a number"), ("", "AR", "empty"), ("１２", "AR", "not a number"),
    ("1,000,000,000,000.00", "US", "too large"),
]


@pytest.mark.parametrize(("text", "country", "expected"), READ)
def test_amounts_read_by_country(text: str, country: str, expected: str) -> None:
    assert parse_amount(text, country) == Decimal(expected)


@pytest.mark.parametrize(("text", "country", "reason"), REFUSED)
def test_ambiguous_or_invalid_amounts_refused_with_the_reason(text: str, country: str, reason: str) -> None:
    with pytest.raises(AmountError) as refused:
        parse_amount(text, country)
    assert reason in str(refused.value)


def test_the_table_covers_the_four_countries() -> None:
    cases = READ + REFUSED
    assert len(cases) >= 40
    for country in ("AR", "CO", "MX", "US"):
        assert sum(c == country for _, c, _ in READ) >= 4 and sum(c == country for _, c, _ in REFUSED) >= 3


def test_quantities() -> None:
    assert parse_quantity("1.200", "AR") == 1200 and parse_quantity("1,200", "MX") == 1200
    assert parse_quantity("12.0", "US") == 12 and parse_quantity("1 200", "CO") == 1200
    for bad, reason in (("1,5", "not a whole number"), ("1,200", "ambiguous"), ("2.5", "ambiguous"),
                        ("3000000000", "too large"), ("-1", "negative")):
        with pytest.raises(AmountError, match=reason):
            parse_quantity(bad, "AR")


def test_a_column_of_raw_numbers_reads_its_short_dotted_values() -> None:
    raw = DotStyle()
    for value in ("12500.00", "700.00", "85999"):
        raw.add(value)
    assert raw.dot_decimal and parse_amount("700.00", "AR", dot_decimal=True) == Decimal("700.00")
    mixed = DotStyle()
    for value in ("12500.00", "8.900", "700.00"):
        mixed.add(value)
    assert not mixed.dot_decimal  # 8.900 is dot thousands: 700.00 stays ambiguous
    lone = DotStyle()
    lone.add("8.90")
    assert not lone.dot_decimal


def test_the_demo_catalog_reads_whole_in_argentina() -> None:
    parsed = parse_catalog((ROOT / "config" / "demo_catalog.csv").read_text("utf-8"), "AR")
    assert parsed.errors == [] and len(parsed.rows) > 80
    assert {r.sku: r.price for r in parsed.rows}["PLO-001"] == Decimal("700.00")


async def test_import_reads_prices_by_the_business_country(data_dir: Path) -> None:
    async with running(make_settings(data_dir)) as h:  # the demo config's country: AR
        ok = await h.import_csv(HEADER + "A1,Martillo,,,8.900,1.200\n")
        assert ok["status"] == 200 and ok["imported"] == 1, ok
        product = await h.product("A1")
        assert Decimal(str(product["price"])) == Decimal("8900.00") and product["stock"] == 1200

        bad = await h.import_csv(HEADER + "A2,Pinza,,,8.90,3\nA3,Llave,,,100,2\nA4,Tenaza,,,\"1,250\",1\n")
        assert bad["status"] == 422 and bad["imported"] == 0
        assert [(e["row"], e["sku"]) for e in bad["errors"]] == [(2, "A2"), (4, "A4")]
        assert "ambiguous in AR" in bad["errors"][0]["error"] and "8,90" in bad["errors"][0]["error"]
        assert bad["errors"][0]["error"].startswith("price: ")
        for sku in ("A2", "A3", "A4"):  # all or nothing
            assert (await h.client.get(f"/admin/products/{sku}", headers=h.admin)).status == 404

        raw = await h.import_csv(HEADER + "C1,Cinta,,,700.00,120\nC2,Taladro,,,12500.00,3\n")
        assert raw["status"] == 200, raw  # a spreadsheet's raw numbers: 700.00 is seven hundred
        assert Decimal(str((await h.product("C1"))["price"])) == Decimal("700.00")

        config = await (await h.client.get("/admin/config", headers=h.admin)).json()
        body = {k: v for k, v in config.items() if not k.startswith("_")} | {"country": "MX"}
        assert (await h.client.put("/admin/config", json=body, headers=h.admin)).status == 200
        ok = await h.import_csv(HEADER + "B1,Taladro,,,\"1,250.50\",\"1,000\"\n")
        assert ok["status"] == 200, ok
        product = await h.product("B1")
        assert Decimal(str(product["price"])) == Decimal("1250.50") and product["stock"] == 1000
        bad = await h.import_csv(HEADER + "B2,Sierra,,,\"1,25\",1\n")
        assert bad["status"] == 422 and "ambiguous in MX" in bad["errors"][0]["error"]
