"""Pydantic models of the catalogue: the insurer, its products and what each product requires.

The YAML files under `products/` are validated against these models; keys are English (they are
the field names the API returns), values are French (they are shown to prospects).
"""

from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    field_validator,
    model_validator,
)

from product_catalog.categories import CATEGORY_CODES, get_category
from product_catalog.errors import UnknownProductError
from product_catalog.vocabulary import (
    INVESTMENT_CATEGORIES,
    NEED_CODES,
    EmploymentStatus,
    HousingSituation,
    InsurablePetSpecies,
    InvestmentObjective,
    LossCapacity,
    VehicleKind,
)

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ProductCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]+(-[A-Z0-9]+)*$", max_length=40)]
Age = Annotated[int, Field(ge=0, le=120)]
Amount = Annotated[float, Field(ge=0, le=10_000_000, allow_inf_nan=False)]
RiskIndicatorValue = Annotated[int, Field(ge=1, le=7)]


class CatalogueModel(BaseModel):
    """Strict, immutable base: unknown keys and loosely typed values are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Guarantee(CatalogueModel):
    name: ShortText
    description: Text


class WaitingPeriod(CatalogueModel):
    """Time after subscription during which a guarantee does not yet apply (délai de carence)."""

    guarantee: ShortText
    days: int = Field(ge=1, le=1095)


class PriceRange(CatalogueModel):
    """Indicative price: euros per month or year, or for savings a yearly fee in percent."""

    min: Amount
    max: Amount
    unit: Literal["eur_per_month", "eur_per_year", "percent_per_year"]
    note: ShortText | None = None

    @model_validator(mode="after")
    def _min_not_above_max(self) -> Self:
        if self.min > self.max:
            raise ValueError("min must not exceed max")
        return self

    @property
    def monthly_minimum_eur(self) -> float | None:
        """The lowest monthly cost in euros, or None when the price is a percentage."""
        if self.unit == "eur_per_month":
            return self.min
        if self.unit == "eur_per_year":
            return self.min / 12
        return None


class RiskIndicator(CatalogueModel):
    """Summary risk indicator (SRI, 1 to 7) of the investment options, lowest to highest."""

    min: RiskIndicatorValue
    max: RiskIndicatorValue

    @model_validator(mode="after")
    def _min_not_above_max(self) -> Self:
        if self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


class MinimumPayment(CatalogueModel):
    """A first payment or a monthly scheduled payment, whichever the prospect can afford."""

    initial_eur: Amount | None = None
    scheduled_monthly_eur: Amount | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> Self:
        if self.initial_eur is None and self.scheduled_monthly_eur is None:
            raise ValueError("give initial_eur, scheduled_monthly_eur or both")
        return self


class Eligibility(CatalogueModel):
    """Hard conditions of subscription; a prospect failing one is never offered the product."""

    min_age: Age | None = None
    max_age: Age | None = None
    residence_in_france: bool = True
    housing: list[HousingSituation] | None = Field(default=None, min_length=1)
    vehicle_kinds: list[VehicleKind] | None = Field(default=None, min_length=1)
    pet_species: list[InsurablePetSpecies] | None = Field(default=None, min_length=1)
    max_pet_age_years: int | None = Field(default=None, ge=0, le=40)
    employment_statuses: list[EmploymentStatus] | None = Field(default=None, min_length=1)
    requires_children_at_school: bool = False
    requires_home_loan: bool = False
    max_age_at_loan_end: Age | None = None
    minimum_payment: MinimumPayment | None = None
    min_loss_capacity: LossCapacity | None = None

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValueError("min_age must not exceed max_age")
        if self.max_pet_age_years is not None and self.pet_species is None:
            raise ValueError("max_pet_age_years needs pet_species")
        if self.max_age_at_loan_end is not None and not self.requires_home_loan:
            raise ValueError("max_age_at_loan_end needs requires_home_loan: true")
        return self


class Suitability(CatalogueModel):
    """What an insurance-based investment is designed for; required for savings and retirement."""

    unit_linked: bool
    risk_indicator: RiskIndicator
    recommended_horizon_years: int = Field(ge=1, le=40)
    objectives: list[InvestmentObjective] = Field(min_length=1)


DocumentKind = Literal[
    "conditions_generales", "document_information", "document_informations_cles", "notice"
]


class Document(CatalogueModel):
    """A contractual document the knowledge base holds, by the file name it is stored under."""

    kind: DocumentKind
    title: ShortText
    filename: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]*\.pdf$")]


class ProductSpec(CatalogueModel):
    """A product as written in a category file (the category comes from the file)."""

    code: ProductCode
    name: ShortText
    pitch: Text
    needs: list[str] = Field(min_length=1)
    eligibility: Eligibility
    guarantees: list[Guarantee] = Field(min_length=1)
    exclusions: list[Text] = Field(min_length=1)
    waiting_periods: list[WaitingPeriod] = Field(default_factory=list)
    price: PriceRange
    suitability: Suitability | None = None
    documents: list[Document] = Field(min_length=2)

    @field_validator("needs")
    @classmethod
    def _known_needs(cls, needs: list[str]) -> list[str]:
        unknown = sorted(set(needs) - NEED_CODES)
        if unknown:
            raise ValueError(f"unknown need code(s) {', '.join(unknown)}")
        if len(set(needs)) != len(needs):
            raise ValueError("a need is listed twice")
        return needs


class Product(ProductSpec):
    """A validated product of the catalogue."""

    category: str

    @field_validator("category")
    @classmethod
    def _known_category(cls, category: str) -> str:
        if category not in CATEGORY_CODES:
            raise ValueError(f"unknown category {category!r}")
        return category

    @model_validator(mode="after")
    def _documents_and_suitability(self) -> Self:
        kinds = {document.kind for document in self.documents}
        information = "document_informations_cles" if self.is_investment else "document_information"
        for required in ("conditions_generales", information):
            if required not in kinds:
                raise ValueError(f"documents must include a {required}")
        if self.is_investment and self.suitability is None:
            raise ValueError("a savings or retirement product needs a suitability section")
        if not self.is_investment and self.suitability is not None:
            raise ValueError("only savings and retirement products have a suitability section")
        return self

    @property
    def is_investment(self) -> bool:
        return self.category in INVESTMENT_CATEGORIES

    @property
    def category_label(self) -> str:
        return get_category(self.category).label


class ProductFile(CatalogueModel):
    """One YAML file: the products of one category."""

    category: str
    products: list[dict[str, object]] = Field(min_length=1)

    @field_validator("category")
    @classmethod
    def _known_category(cls, category: str) -> str:
        if category not in CATEGORY_CODES:
            raise ValueError(f"unknown category {category!r}")
        return category


class Insurer(CatalogueModel):
    """The (fictional) insurer that carries every product."""

    name: ShortText
    legal_form: ShortText
    head_office: ShortText
    description: Text
    fictional: Literal[True]


class Catalogue(CatalogueModel):
    """Every product of the insurer, indexed by code; `version` fingerprints the content."""

    insurer: Insurer
    products: tuple[Product, ...]
    version: str

    _by_code: dict[str, Product] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _unique_codes(self) -> Self:
        codes = [product.code for product in self.products]
        duplicates = sorted({code for code in codes if codes.count(code) > 1})
        if duplicates:
            raise ValueError(f"duplicate product code(s) {', '.join(duplicates)}")
        return self

    def model_post_init(self, context: Any, /) -> None:
        self._by_code = {product.code: product for product in self.products}

    def get(self, code: str) -> Product:
        """Return the product with this code; raise UnknownProductError otherwise."""
        try:
            return self._by_code[code]
        except KeyError:
            raise UnknownProductError(code) from None

    def in_category(self, category: str) -> tuple[Product, ...]:
        return tuple(product for product in self.products if product.category == category)
