"""The Weaviate store: the same contract as the embedded store, on a Weaviate server (client v4).

Two collections:
- `<name>` (default `VergemontChunk`): one object per chunk with the embedded store's properties
  (chunk_id, document, page, text, section, product_code, category, metadata) plus `terms`,
  the French lexical terms of `knowledge.lexical` joined by spaces, and `version`, the content
  hash of the document version the chunk belongs to. Vectors are ours ("bring your own
  vectors"); BM25 runs on `terms` only (whitespace tokenisation, no stop words: they are
  already analysed), with k1=1.2, b=0.75 like the embedded store, so lexical search means the
  same in both stores. Hybrid search is Weaviate's, with the same alpha and fusion.
- `<name>Document`: one object per document (content hash, source, chunk count).

Multi-tenancy (one tenant per brand) is used when a tenant is given: both collections are
created multi-tenant and every call goes through `collection.with_tenant(tenant)`.

Weaviate has no multi-object transactions. A document is replaced by importing the new version's
chunks first, then pointing the document object at the new hash, then deleting the chunks of
other versions: a crash leaves the old version whole (plus, at worst, some new chunks that the
next ingestion, seeing the old hash, replaces). During the few milliseconds between the import
and the delete a search may see both versions.
"""

import json
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from knowledge.chunking import searchable_text
from knowledge.errors import StoreError
from knowledge.interfaces import Chunk, Fusion, ScoredChunk, SearchFilters, StoredDocument, Vector
from knowledge.lexical import FrenchAnalyzer

if TYPE_CHECKING:
    from weaviate import WeaviateClient
    from weaviate.collections import Collection
    from weaviate.collections.classes.filters import _Filters

logger = logging.getLogger(__name__)

_RETURNED = [
    "chunk_id", "document", "page", "text", "section", "product_code", "category", "metadata",
]  # fmt: skip


class WeaviateStore:
    """A `DocumentStore` on Weaviate; see the module docstring."""

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        grpc_port: int = 50051,
        collection: str = "VergemontChunk",
        tenant: str | None = None,
        analyzer: FrenchAnalyzer | None = None,
    ) -> None:
        self.url = url
        self.api_key = api_key
        self.grpc_port = grpc_port
        self.collection_name = collection
        self.tenant = tenant
        self.analyzer = analyzer or FrenchAnalyzer()
        self._client: WeaviateClient | None = None
        self._chunks: Collection[Any, Any] | None = None
        self._documents: Collection[Any, Any] | None = None

    # ------------------------------------------------------------ life cycle

    def warm_up(self) -> None:
        if self._client is not None:
            return
        import weaviate
        from weaviate.classes.init import Auth
        from weaviate.exceptions import WeaviateBaseError

        parsed = urlparse(self.url)
        secure = parsed.scheme == "https"
        host = parsed.hostname or "localhost"
        try:
            client = weaviate.connect_to_custom(
                http_host=host,
                http_port=parsed.port or (443 if secure else 8080),
                http_secure=secure,
                grpc_host=host,
                grpc_port=self.grpc_port,
                grpc_secure=secure,
                auth_credentials=Auth.api_key(self.api_key) if self.api_key else None,
            )
        except WeaviateBaseError as exc:
            raise StoreError(f"cannot connect to Weaviate at {self.url}: {exc}") from exc
        self._client = client
        try:
            self._chunks = self._ensure_collection(client, self.collection_name, chunks=True)
            self._documents = self._ensure_collection(
                client, f"{self.collection_name}Document", chunks=False
            )
        except WeaviateBaseError as exc:
            self.close()
            raise StoreError(f"cannot prepare the Weaviate collections: {exc}") from exc

    def drop_collections(self) -> None:
        """Deletes both collections and everything in them (tests, or starting afresh)."""
        if self._client is None:
            self.warm_up()
        if self._client is not None:
            for name in (self.collection_name, f"{self.collection_name}Document"):
                self._client.collections.delete(name)
        self._chunks = self._documents = None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = self._chunks = self._documents = None

    def _ensure_collection(
        self, client: "WeaviateClient", name: str, *, chunks: bool
    ) -> "Collection[Any, Any]":
        from weaviate.classes.config import (
            Configure,
            DataType,
            Property,
            StopwordsPreset,
            Tokenization,
            VectorDistances,
        )
        from weaviate.classes.tenants import Tenant

        if not client.collections.exists(name):

            def keyword(field: str) -> Property:
                return Property(
                    name=field,
                    data_type=DataType.TEXT,
                    tokenization=Tokenization.FIELD,
                    index_searchable=False,
                )

            def stored(field: str, data_type: DataType = DataType.TEXT) -> Property:
                return Property(
                    name=field, data_type=data_type, index_filterable=False, index_searchable=False
                )

            if chunks:
                properties = [
                    keyword("chunk_id"),
                    keyword("document"),
                    Property(name="page", data_type=DataType.INT),
                    stored("text"),
                    stored("section"),
                    keyword("product_code"),
                    keyword("category"),
                    stored("metadata"),
                    Property(
                        name="terms", data_type=DataType.TEXT, tokenization=Tokenization.WHITESPACE
                    ),
                    keyword("version"),
                ]
            else:
                properties = [
                    keyword("document"),
                    keyword("content_hash"),
                    stored("source"),
                    stored("chunk_count", DataType.INT),
                ]
            client.collections.create(
                name,
                properties=properties,
                vector_config=Configure.Vectors.self_provided(
                    vector_index_config=Configure.VectorIndex.hnsw(
                        distance_metric=VectorDistances.COSINE
                    )
                ),
                inverted_index_config=Configure.inverted_index(
                    bm25_k1=1.2, bm25_b=0.75, stopwords_preset=StopwordsPreset.NONE
                ),
                multi_tenancy_config=(
                    Configure.multi_tenancy(enabled=True, auto_tenant_creation=True)
                    if self.tenant
                    else None
                ),
            )
        collection = client.collections.get(name)
        if self.tenant:
            if not collection.tenants.exists(self.tenant):
                collection.tenants.create([Tenant(name=self.tenant)])
            collection = collection.with_tenant(self.tenant)
        return collection

    def _collections(self) -> tuple["Collection[Any, Any]", "Collection[Any, Any]"]:
        if self._chunks is None or self._documents is None:
            self.warm_up()
        if self._chunks is None or self._documents is None:
            raise StoreError("the Weaviate store is not connected")
        return self._chunks, self._documents

    # ------------------------------------------------------------ documents

    def documents(self) -> dict[str, StoredDocument]:
        _, documents = self._collections()
        found: dict[str, StoredDocument] = {}
        for item in documents.iterator():
            properties = item.properties
            name = str(properties["document"])
            found[name] = StoredDocument(
                document=name,
                content_hash=str(properties["content_hash"]),
                source=str(properties.get("source") or ""),
                chunk_count=int(str(properties.get("chunk_count") or 0)),
            )
        return found

    def count(self) -> int:
        chunks, _ = self._collections()
        return int(chunks.aggregate.over_all(total_count=True).total_count or 0)

    def replace_document(
        self, document: StoredDocument, chunks: Sequence[Chunk], vectors: Vector
    ) -> None:
        from weaviate.classes.query import Filter
        from weaviate.exceptions import WeaviateBaseError
        from weaviate.util import generate_uuid5

        if len(chunks) != len(vectors):
            raise StoreError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        chunk_collection, document_collection = self._collections()
        version = document.content_hash
        same_document = Filter.by_property("document").equal(document.document)
        try:
            with chunk_collection.batch.dynamic() as batch:
                for chunk, vector in zip(chunks, vectors, strict=True):
                    batch.add_object(
                        properties=self._properties(chunk, version),
                        vector=[float(value) for value in vector],
                        uuid=generate_uuid5(f"{chunk.chunk_id}|{version}"),
                    )
            failed = chunk_collection.batch.failed_objects
            if failed:
                chunk_collection.data.delete_many(
                    where=same_document & Filter.by_property("version").equal(version)
                )
                raise StoreError(
                    f"{len(failed)} chunks of {document.document} not imported: {failed[0].message}"
                )
            record = {
                "document": document.document,
                "content_hash": version,
                "source": document.source,
                "chunk_count": len(chunks),
            }
            record_id = generate_uuid5(document.document)
            if document_collection.data.exists(record_id):
                document_collection.data.replace(uuid=record_id, properties=record)
            else:
                document_collection.data.insert(properties=record, uuid=record_id)
            chunk_collection.data.delete_many(
                where=same_document & Filter.by_property("version").not_equal(version)
            )
        except WeaviateBaseError as exc:
            raise StoreError(f"cannot write {document.document} to Weaviate: {exc}") from exc

    def _properties(self, chunk: Chunk, version: str) -> dict[str, Any]:
        return {
            "chunk_id": chunk.chunk_id,
            "document": chunk.document,
            "page": chunk.page,
            "text": chunk.text,
            "section": chunk.section,
            "product_code": chunk.product_code,
            "category": chunk.category,
            "metadata": json.dumps(chunk.metadata, ensure_ascii=False, sort_keys=True),
            "terms": " ".join(self.analyzer.terms(searchable_text(chunk))),
            "version": version,
        }

    def delete_document(self, document: str) -> None:
        from weaviate.classes.query import Filter
        from weaviate.exceptions import WeaviateBaseError
        from weaviate.util import generate_uuid5

        chunks, documents = self._collections()
        try:
            documents.data.delete_by_id(generate_uuid5(document))
            chunks.data.delete_many(where=Filter.by_property("document").equal(document))
        except WeaviateBaseError as exc:
            raise StoreError(f"cannot delete {document} from Weaviate: {exc}") from exc

    def refresh(self) -> None:
        """Weaviate indexes objects as they are imported: nothing to do."""

    # ------------------------------------------------------------ search

    @staticmethod
    def _filters(filters: SearchFilters | None) -> "_Filters | None":
        from weaviate.classes.query import Filter

        if filters is None:
            return None
        conditions = [
            Filter.by_property(field).equal(value)
            for field, value in (
                ("product_code", filters.product_code),
                ("category", filters.category),
                ("document", filters.document),
            )
            if value is not None
        ]
        if not conditions:
            return None
        return conditions[0] if len(conditions) == 1 else Filter.all_of(conditions)

    @staticmethod
    def _scored(objects: Sequence[Any], *, distance: bool = False) -> list[ScoredChunk]:
        results: list[ScoredChunk] = []
        for item in objects:
            properties = item.properties
            score = (
                1.0 - float(item.metadata.distance or 0.0)
                if distance
                else float(item.metadata.score or 0.0)
            )
            chunk = Chunk(
                chunk_id=str(properties["chunk_id"]),
                document=str(properties["document"]),
                page=int(properties["page"]),
                text=str(properties["text"]),
                section=str(properties.get("section") or ""),
                product_code=str(properties.get("product_code") or ""),
                category=str(properties.get("category") or ""),
                metadata=json.loads(str(properties.get("metadata") or "{}")),
            )
            results.append(ScoredChunk(chunk, score))
        return results

    def lexical_search(
        self, query: str, top_k: int, filters: SearchFilters | None = None
    ) -> list[ScoredChunk]:
        from weaviate.classes.query import MetadataQuery

        terms = " ".join(self.analyzer.terms(query))
        if not terms:
            return []
        chunks, _ = self._collections()
        response = chunks.query.bm25(
            terms,
            query_properties=["terms"],
            limit=top_k,
            filters=self._filters(filters),
            return_metadata=MetadataQuery(score=True),
            return_properties=_RETURNED,
        )
        return self._scored(response.objects)

    def dense_search(
        self, vector: Vector, top_k: int, filters: SearchFilters | None = None
    ) -> list[ScoredChunk]:
        from weaviate.classes.query import MetadataQuery

        chunks, _ = self._collections()
        response = chunks.query.near_vector(
            [float(value) for value in vector],
            limit=top_k,
            filters=self._filters(filters),
            return_metadata=MetadataQuery(distance=True),
            return_properties=_RETURNED,
        )
        return self._scored(response.objects, distance=True)

    def hybrid_search(
        self,
        query: str,
        vector: Vector,
        top_k: int,
        *,
        alpha: float,
        fusion: Fusion = "relative_score",
        filters: SearchFilters | None = None,
    ) -> list[ScoredChunk]:
        from weaviate.classes.query import HybridFusion, MetadataQuery

        if not 0.0 <= alpha <= 1.0:
            raise StoreError(f"alpha must be between 0 and 1, not {alpha}")
        terms = " ".join(self.analyzer.terms(query))
        chunks, _ = self._collections()
        response = chunks.query.hybrid(
            terms or None,
            vector=[float(value) for value in vector],
            alpha=alpha if terms else 1.0,
            query_properties=["terms"],
            fusion_type=HybridFusion.RANKED if fusion == "rrf" else HybridFusion.RELATIVE_SCORE,
            limit=top_k,
            filters=self._filters(filters),
            return_metadata=MetadataQuery(score=True),
            return_properties=_RETURNED,
        )
        return self._scored(response.objects)
