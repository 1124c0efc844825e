"""The needs profile: what the dialogue has learnt about a prospect.

Every fact is optional: `None` means "not asked yet", which the engine reports as a missing fact.
The model is strict (no unknown field, no loose types) and rejects contradictory facts; each error
names the field at fault, so the web API answers 422 and the CLI exits 2 with that name.
Fields are declared in an order that lets a later field be checked against earlier ones.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from product_catalog.categories import CATEGORY_CODES
from product_catalog.goals import goals
from product_catalog.pcs import (
    INACTIVE_60_AND_OVER_PCS_CODE,
    INACTIVE_UNDER_60_PCS_CODE,
    NEVER_WORKED_PCS_CODE,
    PCS_BY_CODE,
    RETIRED_PCS_CODES,
    STUDENT_PCS_CODE,
)
from product_catalog.vocabulary import (
    EMPLOYMENT_STATUS_LABELS,
    EmploymentStatus,
    FamilySituation,
    HousingStatus,
    InvestmentExperience,
    InvestmentObjective,
    KnowledgeLevel,
    LegalProtection,
    LossCapacity,
    PetSpecies,
    RiskTolerance,
    VehicleKind,
)

ADULT_AGE = 18
# Earliest plausible retirement (some military and long-career schemes); below it, "retired"
# contradicts the age.
MIN_RETIREMENT_AGE = 35
MIN_PARENT_AGE = 16
EMPLOYER_HEALTH_PLAN_STATUSES = frozenset({"employee", "unemployed"})

Money = Annotated[float, Field(ge=0, le=100_000_000, allow_inf_nan=False)]
MonthlyMoney = Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)]


def contradiction(message: str) -> PydanticCustomError:
    """A validation error for facts that cannot all be true (message shown as is)."""
    return PydanticCustomError("contradictory_facts", message.replace("{", "(").replace("}", ")"))


class ProfileModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Vehicle(ProfileModel):
    kind: VehicleKind


class Pet(ProfileModel):
    species: PetSpecies
    age_years: int = Field(ge=0, le=40)


class HomeLoanProject(ProfileModel):
    """Buying a home financed by a loan."""

    kind: Literal["home_loan"]
    loan_amount_eur: Money | None = None
    loan_duration_years: int | None = Field(default=None, ge=1, le=40)


class RetirementProject(ProfileModel):
    kind: Literal["retirement"]


class SavingsGoalProject(ProfileModel):
    """Saving for a goal (a purchase, studies, a trip…) over a horizon in years."""

    kind: Literal["savings_goal"]
    horizon_years: int | None = Field(default=None, ge=0, le=60)
    target_amount_eur: Money | None = None


class TransmissionProject(ProfileModel):
    """Passing on capital to one's heirs or other beneficiaries."""

    kind: Literal["transmission"]


Project = Annotated[
    HomeLoanProject | RetirementProject | SavingsGoalProject | TransmissionProject,
    Field(discriminator="kind"),
]


class InvestorProfile(ProfileModel):
    """Suitability facts required before any savings or retirement product is proposed."""

    knowledge: KnowledgeLevel | None = None
    experience: InvestmentExperience | None = None
    annual_income_eur: Money | None = None
    financial_assets_eur: Money | None = None
    monthly_commitments_eur: MonthlyMoney | None = None
    objectives: list[InvestmentObjective] | None = Field(default=None, min_length=1)
    horizon_years: int | None = Field(default=None, ge=0, le=60)
    risk_tolerance: RiskTolerance | None = None
    loss_capacity: LossCapacity | None = None

    @field_validator("objectives")
    @classmethod
    def _distinct_objectives(
        cls, objectives: list[InvestmentObjective] | None
    ) -> list[InvestmentObjective] | None:
        if objectives is not None and len(set(objectives)) != len(objectives):
            raise contradiction("un objectif est indiqué deux fois")
        return objectives


class NeedsProfile(ProfileModel):
    """Facts about one prospect; see docs/profile-format.md."""

    age: int | None = Field(default=None, ge=0, le=120)
    resides_in_france: bool | None = None
    family_situation: FamilySituation | None = None
    number_of_dependants: int | None = Field(default=None, ge=0, le=20)
    children_at_school: int | None = Field(default=None, ge=0, le=20)
    employment_status: EmploymentStatus | None = None
    pcs_code: str | None = None
    housing_status: HousingStatus | None = None
    rented_out_properties: int | None = Field(default=None, ge=0, le=100)
    projects: list[Project] | None = Field(default=None, max_length=10)
    vehicles: list[Vehicle] | None = Field(default=None, max_length=20)
    pets: list[Pet] | None = Field(default=None, max_length=20)
    current_coverage: list[str] | None = None
    employer_health_plan: bool | None = None
    monthly_budget_eur: MonthlyMoney | None = None
    investor: InvestorProfile | None = None
    legal_protection: LegalProtection | None = None
    co_subscription: bool = False
    dismembered_ownership: bool = False
    goals: list[str] | None = Field(default=None, max_length=20)

    @field_validator("family_situation")
    @classmethod
    def _union_needs_adult(
        cls, situation: FamilySituation | None, info: ValidationInfo
    ) -> FamilySituation | None:
        age = info.data.get("age")
        if situation in ("married", "civil_partnership") and age is not None and age < ADULT_AGE:
            raise contradiction(f"un mariage ou un PACS est incompatible avec l'âge de {age} ans")
        return situation

    @field_validator("number_of_dependants")
    @classmethod
    def _dependants_need_age(cls, dependants: int | None, info: ValidationInfo) -> int | None:
        age = info.data.get("age")
        if dependants and age is not None and age < MIN_PARENT_AGE:
            raise contradiction(
                f"des personnes à charge sont incompatibles avec l'âge de {age} ans"
            )
        return dependants

    @field_validator("children_at_school")
    @classmethod
    def _children_are_dependants(cls, children: int | None, info: ValidationInfo) -> int | None:
        dependants = info.data.get("number_of_dependants")
        if children and dependants is not None and children > dependants:
            raise contradiction(
                f"{children} enfant(s) scolarisé(s) mais {dependants} personne(s) à charge : "
                "un enfant scolarisé est une personne à charge"
            )
        return children

    @field_validator("employment_status")
    @classmethod
    def _status_matches_age(
        cls, status: EmploymentStatus | None, info: ValidationInfo
    ) -> EmploymentStatus | None:
        age = info.data.get("age")
        if status == "retired" and age is not None and age < MIN_RETIREMENT_AGE:
            raise contradiction(f"retraité(e) à {age} ans n'est pas possible")
        return status

    @field_validator("pcs_code")
    @classmethod
    def _known_pcs_matching_status(cls, code: str | None, info: ValidationInfo) -> str | None:
        if code is None:
            return None
        if code not in PCS_BY_CODE:
            raise PydanticCustomError(
                "unknown_pcs_code", "code PCS inconnu (codes INSEE à deux chiffres, de 10 à 86)"
            )
        status = info.data.get("employment_status")
        age = info.data.get("age")
        expected = {STUDENT_PCS_CODE: "student", **dict.fromkeys(RETIRED_PCS_CODES, "retired")}
        if status is not None and code in expected and status != expected[code]:
            raise contradiction(
                f"le code PCS {code} ({PCS_BY_CODE[code].label}) contredit la situation "
                f"« {EMPLOYMENT_STATUS_LABELS[status]} »"
            )
        if code == NEVER_WORKED_PCS_CODE and status in ("employee", "self_employed"):
            raise contradiction(
                f"le code PCS {code} (jamais travaillé) contredit la situation "
                f"« {EMPLOYMENT_STATUS_LABELS[status]} »"
            )
        if age is not None and (
            (code == INACTIVE_UNDER_60_PCS_CODE and age >= 60)
            or (code == INACTIVE_60_AND_OVER_PCS_CODE and age < 60)
        ):
            raise contradiction(f"le code PCS {code} ne correspond pas à l'âge de {age} ans")
        return code

    @field_validator("rented_out_properties")
    @classmethod
    def _landlord_owns_a_let_property(cls, count: int | None, info: ValidationInfo) -> int | None:
        if count == 0 and info.data.get("housing_status") == "landlord":
            raise contradiction("un propriétaire bailleur met au moins un logement en location")
        return count

    @field_validator("projects")
    @classmethod
    def _loan_needs_adult(
        cls, projects: list[Project] | None, info: ValidationInfo
    ) -> list[Project] | None:
        age = info.data.get("age")
        has_loan = any(project.kind == "home_loan" for project in projects or ())
        if has_loan and age is not None and age < ADULT_AGE:
            raise contradiction(f"un prêt immobilier est impossible à {age} ans")
        return projects

    @field_validator("current_coverage")
    @classmethod
    def _known_categories(cls, categories: list[str] | None) -> list[str] | None:
        if categories is None:
            return None
        unknown = sorted(set(categories) - CATEGORY_CODES)
        if unknown:
            raise PydanticCustomError(
                "unknown_category", "catégorie inconnue : " + ", ".join(unknown)
            )
        if len(set(categories)) != len(categories):
            raise contradiction("une catégorie est indiquée deux fois")
        return categories

    @field_validator("employer_health_plan")
    @classmethod
    def _employer_plan_needs_employer(cls, plan: bool | None, info: ValidationInfo) -> bool | None:
        status = info.data.get("employment_status")
        if plan and status is not None and status not in EMPLOYER_HEALTH_PLAN_STATUSES:
            raise contradiction(
                "une mutuelle d'entreprise obligatoire est incompatible avec la situation "
                f"« {EMPLOYMENT_STATUS_LABELS[status]} »"
            )
        return plan

    @field_validator("legal_protection")
    @classmethod
    def _protection_is_for_adults(
        cls, protection: LegalProtection | None, info: ValidationInfo
    ) -> LegalProtection | None:
        age = info.data.get("age")
        if protection not in (None, "none") and age is not None and age < ADULT_AGE:
            raise contradiction("la curatelle et la tutelle ne concernent que les majeurs")
        return protection

    @field_validator("goals")
    @classmethod
    def _known_goals(cls, codes: list[str] | None) -> list[str] | None:
        if codes is None:
            return None
        unknown = sorted(set(codes) - set(goals()))
        if unknown:
            raise PydanticCustomError("unknown_goal", "objectif inconnu : " + ", ".join(unknown))
        if len(set(codes)) != len(codes):
            raise contradiction("un objectif est indiqué deux fois")
        return codes

    @property
    def is_minor(self) -> bool:
        return self.age is not None and self.age < ADULT_AGE

    @property
    def is_landlord(self) -> bool | None:
        """True when the prospect lets a property; None when the profile cannot tell."""
        if self.housing_status == "landlord" or (self.rented_out_properties or 0) > 0:
            return True
        if self.rented_out_properties == 0:
            return False
        return None

    @property
    def home_loan(self) -> HomeLoanProject | None:
        for project in self.projects or ():
            if isinstance(project, HomeLoanProject):
                return project
        return None

    def has_project(self, kind: str) -> bool | None:
        """Whether a project of this kind is declared; None while projects are unknown."""
        if self.projects is None:
            return None
        return any(project.kind == kind for project in self.projects)
