"""Retrieval-augmented answers over the insurer's documents.

Ingestion, retrieval, generation and validation, one module per stage.
"""
