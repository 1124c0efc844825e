"""HTTP API of the catalogue: products and recommendations."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from product_catalog.loader import load_catalogue
from webapp.core.config import WebAppSettings
from webapp.main import create_app

pytestmark = pytest.mark.unit

TENANT = {"age": 30, "resides_in_france": True, "housing_status": "tenant"}


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(WebAppSettings(_env_file=None, environment="test"))) as test_client:
        yield test_client


def error_locations(response) -> list[list[str | int]]:
    return [error["loc"] for error in response.json()["detail"]]


class TestProducts:
    def test_lists_every_product(self, client):
        response = client.get("/api/products")
        assert response.status_code == 200
        assert [p["code"] for p in response.json()] == [p.code for p in load_catalogue().products]

    def test_filters_by_category(self, client):
        response = client.get("/api/products", params={"category": "sante"})
        assert {p["code"] for p in response.json()} == {"VG-SANTE", "VG-SANTE-SENIOR"}

    def test_unknown_category_is_422_naming_the_parameter(self, client):
        response = client.get("/api/products", params={"category": "bateau"})
        assert response.status_code == 422
        assert error_locations(response) == [["query", "category"]]

    def test_one_product_with_its_documents(self, client):
        response = client.get("/api/products/VG-PER")
        assert response.status_code == 200
        body = response.json()
        assert body["suitability"]["risk_indicator"] == {"min": 2, "max": 5}
        assert {d["kind"] for d in body["documents"]} >= {"conditions_generales"}

    def test_code_is_case_insensitive(self, client):
        assert client.get("/api/products/vg-auto").json()["code"] == "VG-AUTO"

    def test_unknown_product_is_404_in_french(self, client):
        response = client.get("/api/products/VG-YACHT")
        assert response.status_code == 404
        assert response.json() == {"detail": "Aucun produit ne porte le code « VG-YACHT »."}


class TestRecommendations:
    def test_ranks_products_with_reasons(self, client):
        response = client.post("/api/recommendations", json=TENANT)
        assert response.status_code == 200
        body = response.json()
        assert body["items"][0]["code"] == "VG-HAB-LOC"
        assert body["items"][0]["reasons"]
        assert {"warnings", "missing_facts", "advisor_required", "advisor_reasons"} <= set(body)

    def test_same_profile_same_answer(self, client):
        first = client.post("/api/recommendations", json=TENANT).json()
        assert client.post("/api/recommendations", json=TENANT).json() == first

    def test_missing_facts_tell_what_to_ask(self, client):
        body = client.post("/api/recommendations", json={}).json()
        assert body["items"] == []
        fields = {fact["field"] for fact in body["missing_facts"]}
        assert {"age", "housing_status"} <= fields

    @pytest.mark.parametrize(
        ("body", "location"),
        [
            ({**TENANT, "income": 2000}, ["body", "income"]),
            ({"age": -1}, ["body", "age"]),
            ({"age": 130}, ["body", "age"]),
            ({"age": "30"}, ["body", "age"]),
            ({"age": 30.5}, ["body", "age"]),
            ({"resides_in_france": "oui"}, ["body", "resides_in_france"]),
            ({"age": 19, "employment_status": "retired"}, ["body", "employment_status"]),
            ({"number_of_dependants": 0, "children_at_school": 1}, ["body", "children_at_school"]),
            (
                {"housing_status": "landlord", "rented_out_properties": 0},
                ["body", "rented_out_properties"],
            ),
            ({"investor": {"loss_capacity": "beaucoup"}}, ["body", "investor", "loss_capacity"]),
            ({"pcs_code": "99"}, ["body", "pcs_code"]),
        ],
    )
    def test_bad_profile_is_422_naming_the_field(self, client, body, location):
        response = client.post("/api/recommendations", json=body)
        assert response.status_code == 422
        assert error_locations(response) == [location]

    def test_body_must_be_an_object(self, client):
        response = client.post("/api/recommendations", json=[TENANT])
        assert response.status_code == 422

    def test_nothing_is_stored(self, client, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        client.post("/api/recommendations", json=TENANT)
        client.post("/api/recommendations", json={"age": -1})
        assert list(Path(tmp_path).iterdir()) == []


def test_catalogue_is_loaded_once_at_start_up(monkeypatch):
    calls = []

    def counting_load(*args, **kwargs):
        calls.append(1)
        return load_catalogue(*args, **kwargs)

    monkeypatch.setattr("webapp.api.deps.load_catalogue", counting_load)
    app = create_app(WebAppSettings(_env_file=None, environment="test"))
    assert calls == []  # not at import, not at app creation
    with TestClient(app) as test_client:
        test_client.get("/api/products")
        test_client.post("/api/recommendations", json=TENANT)
    assert calls == [1]
