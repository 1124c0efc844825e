"""The Weaviate store without a server (the contract runs against one in test_contract.py)."""

import pytest

from knowledge.interfaces import SearchFilters


@pytest.mark.unit
class TestWeaviateFilters:
    """What can be checked of the Weaviate store without a server: the filters it sends."""

    def test_no_filter_when_no_field_is_set(self) -> None:
        from knowledge.stores.weaviate_store import WeaviateStore

        assert WeaviateStore._filters(None) is None
        assert WeaviateStore._filters(SearchFilters()) is None

    def test_every_set_field_becomes_an_equality_all_of_them_required(self) -> None:
        from weaviate.classes.query import Filter
        from weaviate.collections.classes.filters import _FilterAnd

        from knowledge.stores.weaviate_store import WeaviateStore

        one = WeaviateStore._filters(SearchFilters(product_code="VG-AUTO"))
        both = WeaviateStore._filters(SearchFilters(product_code="VG-AUTO", document="cg.pdf"))

        assert one == Filter.by_property("product_code").equal("VG-AUTO")
        assert isinstance(both, _FilterAnd)
        assert both.filters == [
            Filter.by_property("product_code").equal("VG-AUTO"),
            Filter.by_property("document").equal("cg.pdf"),
        ]
