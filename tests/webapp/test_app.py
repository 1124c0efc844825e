import pytest
from fastapi.testclient import TestClient

from product_catalog.categories import CATEGORIES
from webapp.core.config import WebAppSettings
from webapp.main import create_app

pytestmark = pytest.mark.unit


@pytest.fixture
def client():
    with TestClient(create_app(WebAppSettings(_env_file=None, environment="test"))) as test_client:
        yield test_client


def test_health(client):
    assert client.get("/health").json() == {"status": "ok"}


def test_home_page_is_french(client):
    response = client.get("/")
    assert response.status_code == 200
    assert 'lang="fr"' in response.text


def test_categories_api_lists_every_category(client):
    codes = [item["code"] for item in client.get("/api/categories").json()]
    assert codes == [category.code for category in CATEGORIES]


def test_development_secret_is_refused_in_production():
    with pytest.raises(ValueError, match="WEBAPP_SECRET_KEY"):
        WebAppSettings(environment="production", _env_file=None).check_secrets()
