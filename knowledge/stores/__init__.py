"""Document stores behind one interface (`knowledge.interfaces.DocumentStore`).

`embedded` (default) needs no server and keeps everything in one directory; `weaviate` talks to
a Weaviate server through weaviate-client v4. Both index the same properties and mean the same
by lexical, dense and hybrid search, so the contract tests run unchanged against either.
"""

from knowledge.interfaces import DocumentStore
from knowledge.settings import KnowledgeSettings


def create_store(settings: KnowledgeSettings) -> DocumentStore:
    """The store the settings name, not yet connected (call `warm_up()`)."""
    if settings.store == "weaviate":
        from knowledge.stores.weaviate_store import WeaviateStore

        assert settings.weaviate_url is not None  # noqa: S101 (checked by the settings)
        return WeaviateStore(
            settings.weaviate_url,
            api_key=(
                settings.weaviate_api_key.get_secret_value() if settings.weaviate_api_key else None
            ),
            grpc_port=settings.weaviate_grpc_port,
            collection=settings.weaviate_collection,
            tenant=settings.weaviate_tenant,
        )
    from knowledge.stores.embedded import EmbeddedStore

    return EmbeddedStore(
        settings.store_dir,
        embedding_model=settings.embedding_model,
        hybrid_candidates=settings.hybrid_candidates,
    )
