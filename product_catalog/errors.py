"""Exceptions of the product catalogue package."""

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError


class ProductCatalogError(Exception):
    """Base class of every error raised by the product catalogue."""


@dataclass(frozen=True)
class CatalogueProblem:
    """One defect of the catalogue files, located as precisely as possible."""

    file: str
    message: str
    product: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.product is not None:
            parts.append(f"product {self.product}")
        if self.field is not None:
            parts.append(f"field {self.field}")
        return ": ".join([*parts, self.message])


class CatalogueFileError(ProductCatalogError):
    """The catalogue files are unreadable or invalid; nothing was loaded."""

    def __init__(self, problems: Sequence[CatalogueProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


class ProfileValidationError(ProductCatalogError):
    """A needs profile is malformed, out of range or self-contradictory."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"invalid profile: field {field}: {message}")

    @classmethod
    def from_validation_error(cls, error: ValidationError) -> "ProfileValidationError":
        """Keep the first problem pydantic reports (the CLI shows one line)."""
        first = error.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "profile"
        problem = cls(field, first["msg"])
        problem.__cause__ = error
        return problem


class UnknownProductError(ProductCatalogError, LookupError):
    """No product of the catalogue has this code."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"unknown product code: {code}")


class CatalogueStorageError(ProductCatalogError):
    """The catalogue could not be written to or read from the database."""
