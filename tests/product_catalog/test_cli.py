"""`python -m product_catalog`: list, recommend, validate, load, and exit 2 on bad input."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.product_catalog.test_db import alembic

pytestmark = pytest.mark.unit

REPOSITORY = Path(__file__).resolve().parents[2]


def run(*arguments: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "product_catalog", *arguments],
        cwd=REPOSITORY,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def write_profile(tmp_path: Path, data: Any) -> str:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


class TestList:
    def test_json_lists_every_product_with_every_field(self, catalogue):
        completed = run("list", "--json")
        assert completed.returncode == 0, completed.stderr
        products = json.loads(completed.stdout)
        assert [p["code"] for p in products] == [p.code for p in catalogue.products]
        assert {"eligibility", "guarantees", "documents", "price"} <= set(products[0])

    def test_category_filter(self):
        products = json.loads(run("list", "--json", "--category", "habitation").stdout)
        assert {p["code"] for p in products} == {"VG-HAB-LOC", "VG-HAB-PO", "VG-HAB-PNO"}

    def test_plain_listing_shows_names(self):
        assert "Vergemont Auto" in run("list").stdout


class TestRecommend:
    def test_json_result_has_items_reasons_warnings_and_missing_facts(self, tmp_path):
        profile = {"age": 30, "resides_in_france": True, "housing_status": "tenant"}
        completed = run("recommend", write_profile(tmp_path, profile), "--json")
        assert completed.returncode == 0, completed.stderr
        result = json.loads(completed.stdout)
        assert result["items"][0]["code"] == "VG-HAB-LOC"
        assert result["items"][0]["reasons"]
        assert {"warnings", "missing_facts", "advisor_required", "excluded"} <= set(result)

    def test_profile_can_come_from_stdin(self):
        completed = run(
            "recommend",
            "-",
            "--json",
            stdin='{"resides_in_france": true, "age": 40, "vehicles": [{"kind": "car"}]}',
        )
        assert json.loads(completed.stdout)["items"][0]["code"] == "VG-AUTO"

    def test_plain_report_is_in_french(self, tmp_path):
        completed = run(
            "recommend", write_profile(tmp_path, {"age": 17, "resides_in_france": True})
        )
        assert "Un conseiller doit prendre le relais" in completed.stdout

    @pytest.mark.parametrize(
        ("profile", "field"),
        [
            ({"age": 30, "salary": 2000}, "salary"),
            ({"age": -4}, "age"),
            ({"age": 500}, "age"),
            ({"age": "trente"}, "age"),
            ({"age": 19, "employment_status": "retired"}, "employment_status"),
            ({"number_of_dependants": 0, "children_at_school": 2}, "children_at_school"),
            ({"housing_status": "landlord", "rented_out_properties": 0}, "rented_out_properties"),
            ({"vehicles": [{"kind": "tank"}]}, "vehicles.0.kind"),
            (["not", "an", "object"], "profile"),
        ],
    )
    def test_bad_profile_exits_2_with_one_line_naming_the_field(self, tmp_path, profile, field):
        completed = run("recommend", write_profile(tmp_path, profile), "--json")
        assert completed.returncode == 2
        assert completed.stdout == ""
        lines = completed.stderr.strip().splitlines()
        assert len(lines) == 1
        assert f"field {field}:" in lines[0]

    def test_invalid_json_exits_2_with_its_position(self, tmp_path):
        path = tmp_path / "broken.json"
        path.write_text('{"age": 30,', encoding="utf-8")
        completed = run("recommend", str(path))
        assert completed.returncode == 2
        assert "invalid JSON at line 1" in completed.stderr

    def test_missing_file_exits_2(self, tmp_path):
        completed = run("recommend", str(tmp_path / "absent.json"))
        assert completed.returncode == 2
        assert "cannot read" in completed.stderr


class TestValidate:
    def test_shipped_catalogue_is_valid(self, catalogue):
        completed = run("validate")
        assert completed.returncode == 0, completed.stderr
        assert f"{len(catalogue.products)} products in 14 categories" in completed.stdout

    def test_every_problem_is_printed_with_file_product_and_field(self, products_copy):
        auto = products_copy / "auto.yaml"
        auto.write_text(auto.read_text().replace("min_age: 17", "min_age: 170"), encoding="utf-8")
        gav = products_copy / "gav.yaml"
        gav.write_text(
            gav.read_text().replace("    pitch:", "    tagline: x\n    pitch:"), encoding="utf-8"
        )
        completed = run("--products-dir", str(products_copy), "validate")
        assert completed.returncode == 2
        assert "product VG-AUTO: field eligibility.min_age:" in completed.stderr
        assert "product VG-GAV: field tagline:" in completed.stderr

    def test_other_commands_refuse_an_invalid_catalogue(self, products_copy, tmp_path):
        auto = products_copy / "auto.yaml"
        auto.write_text(auto.read_text().replace("min_age: 17", "min_age: 170"), encoding="utf-8")
        completed = run("--products-dir", str(products_copy), "list")
        assert completed.returncode == 2
        assert "field eligibility.min_age" in completed.stderr


class TestLoad:
    def test_loads_into_a_migrated_database(self, tmp_path, catalogue):
        url = f"sqlite:///{tmp_path / 'app.db'}"
        alembic(url, "upgrade", "head")
        completed = run("load", "--database-url", url)
        assert completed.returncode == 0, completed.stderr
        assert completed.stdout.startswith(f"stored {len(catalogue.products)} products")

    def test_unmigrated_database_exits_1_with_the_fix(self, tmp_path):
        completed = run("load", "--database-url", f"sqlite:///{tmp_path / 'empty.db'}")
        assert completed.returncode == 1
        assert "alembic upgrade head" in completed.stderr


def test_unknown_command_exits_2():
    assert run("explode").returncode == 2
