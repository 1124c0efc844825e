"""Reading the YAML files: every defect is reported with its file, product and field."""

from pathlib import Path

import pytest

from product_catalog.errors import CatalogueFileError, CatalogueProblem
from product_catalog.loader import load_catalogue

pytestmark = pytest.mark.unit


def problems_of(products_dir: Path, insurer_file: Path) -> tuple[CatalogueProblem, ...]:
    with pytest.raises(CatalogueFileError) as caught:
        load_catalogue(products_dir, insurer_file)
    return caught.value.problems


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


class TestLoadCatalogue:
    def test_shipped_catalogue_loads(self, catalogue):
        assert catalogue.get("VG-HAB-LOC").eligibility.housing == ["tenant"]

    def test_products_are_in_category_order_then_code(self, catalogue):
        assert catalogue.products[0].category == "epargne"
        assert catalogue.products[-1].category == "animaux"

    def test_version_is_stable_and_follows_the_content(
        self, catalogue, products_copy, insurer_file
    ):
        assert load_catalogue(products_copy, insurer_file).version == catalogue.version
        edit(products_copy / "auto.yaml", "max: 120", "max: 125")
        assert load_catalogue(products_copy, insurer_file).version != catalogue.version

    def test_error_names_file_product_and_field(self, products_copy, insurer_file):
        edit(products_copy / "auto.yaml", "min_age: 17", "min_age: -3")
        (problem,) = problems_of(products_copy, insurer_file)
        assert problem.file.endswith("auto.yaml")
        assert problem.product == "VG-AUTO"
        assert problem.field == "eligibility.min_age"
        assert "auto.yaml: product VG-AUTO: field eligibility.min_age:" in str(problem)

    def test_unknown_key_is_named(self, products_copy, insurer_file):
        edit(products_copy / "gav.yaml", "    pitch:", "    slogan: Oui\n    pitch:")
        (problem,) = problems_of(products_copy, insurer_file)
        assert (problem.product, problem.field) == ("VG-GAV", "slogan")

    def test_product_without_code_is_named_by_position(self, products_copy, insurer_file):
        edit(
            products_copy / "habitation.yaml", "  - code: VG-HAB-PO\n", "  - reference: VG-HAB-PO\n"
        )
        problems = problems_of(products_copy, insurer_file)
        located = {(problem.product, problem.field) for problem in problems}
        assert ("#2", "code") in located
        assert ("#2", "reference") in located

    def test_every_problem_of_every_file_is_reported(self, products_copy, insurer_file):
        edit(products_copy / "auto.yaml", "unit: eur_per_month", "unit: eur_per_week")
        edit(products_copy / "scolaire.yaml", "needs: [accidents_scolaires]", "needs: [cartable]")
        problems = problems_of(products_copy, insurer_file)
        assert {(p.product, p.field) for p in problems} == {
            ("VG-AUTO", "price.unit"),
            ("VG-SCOLAIRE", "needs"),
        }

    def test_invalid_yaml_names_the_file_and_line(self, products_copy, insurer_file):
        edit(products_copy / "animaux.yaml", "category: animaux", "category: [animaux")
        problems = problems_of(products_copy, insurer_file)
        assert problems[0].file.endswith("animaux.yaml")
        assert "invalid YAML" in problems[0].message
        assert "line" in problems[0].message

    def test_a_key_written_twice_is_refused(self, products_copy, insurer_file):
        edit(
            products_copy / "auto.yaml", "    name: Vergemont Auto\n", "    name: A\n    name: B\n"
        )
        (problem,) = problems_of(products_copy, insurer_file)
        assert "written twice" in problem.message

    def test_empty_file_is_refused(self, products_copy, insurer_file):
        (products_copy / "vide.yaml").write_text("# rien\n", encoding="utf-8")
        (problem,) = problems_of(products_copy, insurer_file)
        assert problem.file.endswith("vide.yaml")
        assert problem.message == "the file is empty"

    def test_a_product_cannot_override_its_file_category(self, products_copy, insurer_file):
        edit(
            products_copy / "auto.yaml",
            "    name: Vergemont Auto\n",
            "    category: gav\n    name: Vergemont Auto\n",
        )
        (problem,) = problems_of(products_copy, insurer_file)
        assert (problem.product, problem.field) == ("VG-AUTO", "category")

    def test_duplicate_code_across_files_names_both_files(self, products_copy, insurer_file):
        edit(products_copy / "gav.yaml", "code: VG-GAV", "code: VG-AUTO")
        problems = problems_of(products_copy, insurer_file)
        duplicate = next(p for p in problems if p.field == "code")
        assert duplicate.product == "VG-AUTO"
        assert "auto.yaml" in duplicate.message or "gav.yaml" in duplicate.message

    def test_document_file_names_are_unique(self, products_copy, insurer_file):
        edit(products_copy / "gav.yaml", "filename: vg-gav-ipid.pdf", "filename: vg-auto-ipid.pdf")
        (problem,) = problems_of(products_copy, insurer_file)
        assert problem.field == "documents.1.filename"

    def test_a_category_without_product_is_reported(self, products_copy, insurer_file):
        (products_copy / "animaux.yaml").unlink()
        (problem,) = problems_of(products_copy, insurer_file)
        assert "animaux" in problem.message

    def test_missing_folder_is_reported(self, tmp_path, insurer_file):
        problems = problems_of(tmp_path / "nowhere", insurer_file)
        assert "no product file" in problems[0].message

    def test_invalid_insurer_is_reported(self, products_copy, tmp_path):
        insurer = tmp_path / "insurer.yaml"
        insurer.write_text("name: Vergemont Assurances\nfictional: false\n", encoding="utf-8")
        fields = {problem.field for problem in problems_of(products_copy, insurer)}
        assert {"fictional", "legal_form"} <= fields
