"""Catalog numbers are read by the business country's conventions, or refused for their row: never 1000x off."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from storage.numbers import AmountError, parse_amount, parse_quantity
from tests.conftest import make_settings, running

READ = [
    ("8.900", "AR", "8900"), ("8.900,50", "AR", "8900.50"), ("$ 8.900", "AR", "8900"), ("ARS 8.900,50", "AR", "8900.50"),
    ("1.250.000", "AR", "1250000"), ("12500.00", "AR", "12500.00"), ("500.00", "AR", "500.00"), ("8,5", "AR", "8.5"),
    ("8 900,50", "CO", "8900.50"), ("$ 45.000", "CO", "45000"), ("COP 1.200.000", "CO", "1200000"),
    ("8900", "CO", "8900"), ("3.200,5", "CL", "3200.5"), ("1,250", "MX", "1250"), ("1,250.50", "MX", "1250.50"),
    ("$1,250,000.99", "MX", "1250000.99"), ("899.90", "MX", "899.90"), ("US$1,250.50", "US", "1250.50"),
    ("1,250", "US", "1250"), ("0", "AR", "0"), ("0,99", "AR", "0.99"), ("0.99", "US", "0.99"),
]
REFUSED = [
    ("1,250", "AR", "ambiguous"), ("1.250", "MX", "ambiguous"), ("1,250.50", "AR", "wrong order"),
    ("8.900,50", "MX", "wrong order"), ("-5", "AR", "negative"), ("abc", "AR", "not a number"), ("", "AR", "not a number"),
    ("8.90.0", "AR", "ambiguous"), ("1,2,3", "MX", "ambiguous"), ("12,3456", "AR", "ambiguous"),
    ("1.2345", "US", "ambiguous"), ("8,900.5,0", "US", "wrong order"), ("$", "AR", "not a number"), ("1.25.000,00", "AR", "3 digits"),
]


@pytest.mark.parametrize(("text", "country", "expected"), READ)
def test_amounts_read_by_country(text: str, country: str, expected: str) -> None:
    assert parse_amount(text, country) == Decimal(expected)


@pytest.mark.parametrize(("text", "country", "reason"), REFUSED)
def test_ambiguous_or_invalid_amounts_refused_with_the_reason(text: str, country: str, reason: str) -> None:
    with pytest.raises(AmountError, match=reason):
        parse_amount(text, country)


def test_quantities() -> None:
    assert parse_quantity("1.200", "AR") == 1200 and parse_quantity("1,200", "MX") == 1200
    for bad in ("1,5", "2.5"):
        with pytest.raises(AmountError):
            parse_quantity(bad, "AR")


async def test_import_reads_prices_by_the_business_country(data_dir: Path) -> None:
    async with running(make_settings(data_dir)) as h:  # the demo config's country: AR
        ok = await h.import_csv("sku,name,description,category,price,stock\nA1,Martillo,,,8.900,1.200\n")
        assert ok["status"] == 200 and ok["imported"] == 1
        product = await h.product("A1")
        assert Decimal(str(product["price"])) == Decimal("8900") and product["stock"] == 1200
        bad = await h.import_csv("sku,name,description,category,price,stock\nA2,Pinza,,,\"1,250\",3\nA3,Llave,,,100,2\n")
        assert bad["status"] != 200 or bad.get("imported", 0) == 0
        assert bad["errors"][0]["row"] == 2 and "ambiguous" in bad["errors"][0]["error"]
        assert (await h.client.get("/admin/products/A3", headers=h.admin)).status == 404  # all or nothing

        config = await (await h.client.get("/admin/config", headers=h.admin)).json()
        body = {k: v for k, v in config.items() if not k.startswith("_")} | {"country": "MX"}
        assert (await h.client.put("/admin/config", json=body, headers=h.admin)).status == 200
        ok = await h.import_csv("sku,name,description,category,price,stock\nB1,Taladro,,,\"1,250.50\",\"1,000\"\n")
        assert ok["status"] == 200, ok
        product = await h.product("B1")
        assert Decimal(str(product["price"])) == Decimal("1250.50") and product["stock"] == 1000
