"""The suitability engine: from a needs profile to a ranked, explained list of products.

1. Needs: detectors read the profile and say which needs it reveals, with a weight and a reason.
2. Eligibility: every hard rule of a product must pass on known facts; an unknown fact blocks.
   Savings and retirement products also need every suitability fact of the investor section.
3. Scoring: an eligible product that answers at least one need scores the weights of those needs,
   adjusted for suitability (risk, horizon, objectives), existing cover and budget.
4. Explanations: reasons and warnings in French, the relevant products that were excluded and why,
   the facts still unknown that would change the result, and whether an advisor must take over.

Same profile, same result: no randomness, no clock, and every list has a defined order.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict

from product_catalog.eligibility import EligibilityResult, Rule, compile_rules, evaluate
from product_catalog.facts import FACT_ORDER, FACTS_BY_FIELD
from product_catalog.goals import Goal, goals
from product_catalog.needs import NEED_DETECTORS, DetectedNeed, NeedDetector, detect_needs
from product_catalog.profile import NeedsProfile
from product_catalog.schema import Catalogue, Product
from product_catalog.vocabulary import (
    ACCEPTABLE_RISK_INDICATOR,
    NEED_LABELS,
    OBJECTIVE_LABELS,
    InvestmentObjective,
)

MissingFactKind = Literal["eligibility", "needs", "suitability", "ranking"]
KIND_PRIORITY: dict[MissingFactKind, int] = {
    "eligibility": 0,
    "needs": 1,
    "suitability": 2,
    "ranking": 3,
}

EXISTING_COVER_FACTOR = 40
OVER_BUDGET_FACTOR = 50
RISK_MISMATCH_FACTOR = 50
SHORT_HORIZON_FACTOR = 70
OBJECTIVE_MISMATCH_FACTOR = 50
# Suitability bonuses tell investment products apart; they stay small so that a good fit never
# lifts a savings contract above a cover the law or a lender requires.
RISK_FIT_BONUS = 6
HORIZON_FIT_BONUS = 4
OBJECTIVE_BONUS = 5
# A product answering a stated goal is ranked before every product chosen from facts only (the
# sort key says so); this bonus orders products answering several goals first among them.
GOAL_BONUS = 50
# Who subscribes matters for these (an adult under curatorship or guardianship is assisted or
# represented): the legal protection is asked when one of them is a candidate.
LEGAL_PROTECTION_CATEGORIES = frozenset({"epargne", "retraite", "emprunteur"})


class ResultModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Recommendation(ResultModel):
    """A product proposed to the prospect, with why (reasons) and what to watch (warnings)."""

    code: str
    name: str
    category: str
    score: int
    reasons: list[str]
    warnings: list[str]
    goals: list[str] = []  # the stated goals (codes) it answers


class MissingFact(ResultModel):
    """A fact still unknown whose answer would change the result for the products it affects."""

    field: str
    question_fr: str
    kind: MissingFactKind
    affects: list[str]


class ExcludedProduct(ResultModel):
    """A product answering one of the prospect's needs but ruled out by its eligibility rules."""

    code: str
    name: str
    category: str
    reasons: list[str]


class RecommendationResult(ResultModel):
    catalogue_version: str
    items: list[Recommendation]
    warnings: list[str]
    missing_facts: list[MissingFact]
    advisor_required: bool
    advisor_reasons: list[str]
    excluded: list[ExcludedProduct]


@dataclass(frozen=True)
class _CompiledProduct:
    product: Product
    rules: tuple[Rule, ...]
    detectors: tuple[NeedDetector, ...]
    monthly_minimum_eur: float | None


@dataclass
class _MissingFacts:
    kinds: dict[str, set[MissingFactKind]] = field(default_factory=dict)
    affects: dict[str, set[str]] = field(default_factory=dict)
    # Products answering a stated goal: the facts they wait for are asked first.
    goal_products: set[str] = field(default_factory=set)

    def add(self, fact: str, kind: MissingFactKind, code: str) -> None:
        self.kinds.setdefault(fact, set()).add(kind)
        self.affects.setdefault(fact, set()).add(code)

    def ordered(self) -> list[MissingFact]:
        facts = []
        for name, kinds in self.kinds.items():
            kind = min(kinds, key=KIND_PRIORITY.__getitem__)
            facts.append(
                MissingFact(
                    field=name,
                    question_fr=FACTS_BY_FIELD[name].question,
                    kind=kind,
                    affects=sorted(self.affects[name]),
                )
            )
        facts.sort(
            key=lambda fact: (
                self.goal_products.isdisjoint(fact.affects),
                KIND_PRIORITY[fact.kind],
                -len(fact.affects),
                FACT_ORDER[fact.field],
            )
        )
        return facts


def is_unknown(profile: NeedsProfile, fact: str) -> bool:
    """Whether a fact named as in facts.FACTS is absent from the profile."""
    if fact.startswith("investor."):
        investor = profile.investor
        return investor is None or getattr(investor, fact.removeprefix("investor.")) is None
    if fact == "projects.home_loan.loan_duration_years":
        loan = profile.home_loan
        return loan is not None and loan.loan_duration_years is None
    return getattr(profile, fact) is None


def _scaled(score: int, factor: int) -> int:
    return score * factor // 100


def advisor_reasons(profile: NeedsProfile) -> list[str]:
    """Situations a self-service journey must not handle alone, in a fixed order."""
    reasons = []
    if profile.is_minor:
        reasons.append(
            "Vous êtes mineur(e) : la souscription doit être faite par vos représentants légaux, "
            "accompagnés d'un conseiller."
        )
    if profile.legal_protection == "curatorship":
        reasons.append(
            "Vous êtes sous curatelle : la souscription demande l'assistance de votre curateur ; "
            "un conseiller vous accompagnera."
        )
    if profile.legal_protection == "guardianship":
        reasons.append(
            "Vous êtes sous tutelle : seul votre tuteur peut souscrire, avec l'autorisation du "
            "juge pour certains contrats ; un conseiller vous accompagnera."
        )
    if profile.co_subscription:
        reasons.append(
            "Une souscription à deux (co-souscription) s'étudie avec un conseiller : droits de "
            "chacun, dénouement du contrat et clause bénéficiaire."
        )
    if profile.dismembered_ownership:
        reasons.append(
            "Un démembrement de propriété (usufruit et nue-propriété) demande une étude "
            "personnalisée par un conseiller."
        )
    if profile.resides_in_france is False:
        reasons.append(
            "Vous résidez hors de France : nos contrats sont réservés aux résidents en France ; "
            "un conseiller étudiera votre situation."
        )
    return reasons


class SuitabilityEngine:
    """Built once per catalogue (rules compiled, indexes precomputed), then reused."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        detectors = {detector.code: detector for detector in NEED_DETECTORS}
        self._products = tuple(
            _CompiledProduct(
                product=product,
                rules=compile_rules(product),
                detectors=tuple(detectors[need] for need in product.needs),
                monthly_minimum_eur=product.price.monthly_minimum_eur,
            )
            for product in sorted(catalogue.products, key=lambda product: product.code)
        )
        # Need detectors only read top-level fields: one getattr each tells what is unknown.
        self._need_facts = tuple(
            sorted({fact for detector in NEED_DETECTORS for fact in detector.facts})
        )
        self._products_by_need: dict[str, tuple[str, ...]] = {
            need: tuple(c.product.code for c in self._products if need in c.product.needs)
            for need in NEED_LABELS
        }

    def goal_products(self, goal_codes: Iterable[str]) -> frozenset[str]:
        """The codes of the products answering any of these stated goals (eligible or not)."""
        stated = [goals()[code] for code in goal_codes]
        return frozenset(
            compiled.product.code
            for compiled in self._products
            if any(
                goal.answered_by(compiled.product.category, compiled.product.needs)
                for goal in stated
            )
        )

    def recommend(self, profile: NeedsProfile) -> RecommendationResult:
        needs = detect_needs(profile)
        unknown = frozenset(fact for fact in self._need_facts if getattr(profile, fact) is None)
        missing = _MissingFacts()
        items: list[Recommendation] = []
        excluded: list[ExcludedProduct] = []
        statuses: dict[str, str] = {}
        suitability_pending = False
        stated = [goals()[code] for code in profile.goals or ()]

        for compiled in self._products:
            product = compiled.product
            answered = [needs[code] for code in product.needs if code in needs]
            wished = [goal for goal in stated if goal.answered_by(product.category, product.needs)]
            revealing = self._unknown_need_facts(compiled, needs, unknown)
            if not answered and not revealing and not wished:
                continue  # answers no need, and no answer could change that: nothing to say
            verdict = evaluate(compiled.rules, profile)
            statuses[product.code] = verdict.status
            if verdict.status == "ineligible":
                if answered:
                    excluded.append(
                        ExcludedProduct(
                            code=product.code,
                            name=product.name,
                            category=product.category,
                            reasons=list(verdict.failures),
                        )
                    )
                continue
            if wished:
                missing.goal_products.add(product.code)
            for fact in revealing:
                missing.add(fact, "needs", product.code)
            if not answered and not wished:
                continue
            if product.category in LEGAL_PROTECTION_CATEGORIES and profile.legal_protection is None:
                missing.add("legal_protection", "eligibility", product.code)
            if verdict.status == "pending":
                suitability_pending |= self._note_pending(product, verdict, missing)
                continue
            items.append(self._score(compiled, answered, wished, profile, missing))

        # A suitable product answering a stated goal comes before those chosen from facts only.
        items.sort(key=lambda item: (not item.goals, -item.score, item.code))
        reasons = advisor_reasons(profile)
        warnings = self._warnings(profile, needs, statuses, suitability_pending)
        warnings += _unanswered_goals(stated, statuses, self._products)
        return RecommendationResult(
            catalogue_version=self.catalogue.version,
            items=items,
            warnings=warnings,
            missing_facts=missing.ordered(),
            advisor_required=bool(reasons),
            advisor_reasons=reasons,
            excluded=excluded,
        )

    @staticmethod
    def _unknown_need_facts(
        compiled: _CompiledProduct, needs: dict[str, DetectedNeed], unknown: frozenset[str]
    ) -> list[str]:
        """Unknown facts that could reveal a need this product answers and that is not found."""
        return [
            fact
            for detector in compiled.detectors
            if detector.code not in needs
            for fact in detector.facts
            if fact in unknown
        ]

    @staticmethod
    def _note_pending(product: Product, verdict: EligibilityResult, missing: _MissingFacts) -> bool:
        """Record what blocks a relevant product; True when suitability facts are among it."""
        suitability = False
        for fact in verdict.missing:
            if fact.startswith("investor."):
                suitability = True
                missing.add(fact, "suitability", product.code)
            else:
                missing.add(fact, "eligibility", product.code)
        return suitability

    def _score(
        self,
        compiled: _CompiledProduct,
        answered: list[DetectedNeed],
        wished: list[Goal],
        profile: NeedsProfile,
        missing: _MissingFacts,
    ) -> Recommendation:
        product = compiled.product
        answered = sorted(answered, key=lambda need: (-need.weight, need.code))
        score = sum(need.weight for need in answered) + GOAL_BONUS * len(wished)
        reasons = [goal.reason for goal in wished] + [need.reason for need in answered]
        warnings: list[str] = []
        if product.is_investment:
            score = _investment_fit(product, profile, score, reasons, warnings)

        if profile.current_coverage is None:
            missing.add("current_coverage", "ranking", product.code)
        elif product.category in profile.current_coverage:
            score = _scaled(score, EXISTING_COVER_FACTOR)
            warnings.append(
                f"Vous avez déjà un contrat « {product.category_label} » : comparez ses garanties "
                "et son prix avant d'en changer."
            )

        minimum = compiled.monthly_minimum_eur
        if minimum is not None:
            budget = profile.monthly_budget_eur
            if budget is None:
                missing.add("monthly_budget_eur", "ranking", product.code)
            elif minimum > budget:
                score = _scaled(score, OVER_BUDGET_FACTOR)
                warnings.append(
                    f"Son tarif indicatif de départ ({minimum:.0f} € par mois) dépasse le budget "
                    f"mensuel que vous avez indiqué ({budget:.0f} €)."
                )

        return Recommendation(
            code=product.code,
            name=product.name,
            category=product.category,
            score=max(score, 1),
            reasons=reasons,
            warnings=warnings,
            goals=[goal.code for goal in wished],
        )

    def _warnings(
        self,
        profile: NeedsProfile,
        needs: dict[str, DetectedNeed],
        statuses: dict[str, str],
        suitability_pending: bool,
    ) -> list[str]:
        warnings = []
        if profile.resides_in_france is False:
            warnings.append(
                "Les contrats de Vergemont Assurances sont réservés aux personnes résidant en "
                "France."
            )
        else:
            for code in sorted(needs, key=lambda need: (-needs[need].weight, need)):
                covering = self._products_by_need[code]  # all evaluated: they answer this need
                if all(statuses.get(p) == "ineligible" for p in covering):
                    warnings.append(
                        f"Aucun contrat de notre catalogue ne permet de {NEED_LABELS[code]} dans "
                        "votre situation : un conseiller peut vous orienter."
                    )
        if suitability_pending:
            warnings.append(
                "Avant de vous proposer un contrat d'épargne ou de retraite, nous devons connaître "
                "votre profil d'investisseur : connaissances et expérience, situation financière, "
                "objectifs, horizon de placement, tolérance au risque et capacité à subir des "
                "pertes."
            )
        return warnings


def _unanswered_goals(
    stated: list[Goal], statuses: dict[str, str], products: tuple[_CompiledProduct, ...]
) -> list[str]:
    """A warning per stated goal that no product open to the prospect answers."""
    warnings = []
    for goal in stated:
        open_to = [
            c.product.code
            for c in products
            if goal.answered_by(c.product.category, c.product.needs)
            and statuses.get(c.product.code, "ineligible") != "ineligible"
        ]
        if not open_to:
            warnings.append(
                f"Vous souhaitez {goal.label}, mais aucun contrat de notre catalogue ne correspond "
                "à votre situation : un conseiller peut vous orienter."
            )
    return warnings


def _investment_fit(
    product: Product, profile: NeedsProfile, score: int, reasons: list[str], warnings: list[str]
) -> int:
    """Adjust an investment product's score to the suitability facts (all known here)."""
    suitability = product.suitability
    investor = profile.investor
    # The schema gives every investment product a suitability section and eligibility requires
    # every investor fact, so this guard only narrows types.
    if (
        suitability is None
        or investor is None
        or investor.risk_tolerance is None
        or investor.horizon_years is None
        or investor.objectives is None
    ):
        return score

    indicator = suitability.risk_indicator
    span = (
        f"{indicator.min} sur 7"
        if indicator.min == indicator.max
        else f"de {indicator.min} à {indicator.max} sur 7"
    )
    acceptable = ACCEPTABLE_RISK_INDICATOR[investor.risk_tolerance]
    if suitability.unit_linked and investor.risk_tolerance in ("very_low", "low"):
        score = _scaled(score, RISK_MISMATCH_FACTOR)
        warnings.append(
            "Ce contrat place une part de votre épargne en unités de compte, dont la valeur peut "
            "baisser : avec une faible tolérance au risque, limitez cette part ou préférez le "
            "fonds en euros."
        )
    elif acceptable < indicator.min:
        score = _scaled(score, RISK_MISMATCH_FACTOR)
        warnings.append(
            f"Le niveau de risque de ce contrat (indicateur {span}) dépasse celui que vous "
            "acceptez."
        )
    elif acceptable <= indicator.max:
        score += RISK_FIT_BONUS
        reasons.append(
            f"Son niveau de risque (indicateur {span}) correspond à celui que vous acceptez."
        )

    horizon = investor.horizon_years
    recommended = suitability.recommended_horizon_years
    if horizon < recommended:
        score = _scaled(score, SHORT_HORIZON_FACTOR)
        warnings.append(
            f"La durée de placement recommandée est d'au moins {recommended} ans ; vous "
            f"envisagez {horizon} an{'s' if horizon > 1 else ''}."
        )
    else:
        score += HORIZON_FIT_BONUS
        reasons.append(
            f"Votre horizon de placement ({horizon} ans) respecte la durée recommandée "
            f"({recommended} ans au moins)."
        )

    matched = [goal for goal in suitability.objectives if goal in investor.objectives]
    if matched:
        score += OBJECTIVE_BONUS * len(matched)
        reasons.append(f"Il répond à votre objectif : {_objectives(matched)}.")
    else:
        score = _scaled(score, OBJECTIVE_MISMATCH_FACTOR)
        warnings.append("Ce contrat ne correspond à aucun des objectifs que vous avez indiqués.")

    if suitability.unit_linked and investor.knowledge == "none":
        warnings.append(
            "Vous indiquez ne pas connaître les placements financiers : un conseiller doit vous "
            "expliquer le fonctionnement des unités de compte avant toute souscription."
        )
    return score


def _objectives(goals: Iterable[InvestmentObjective]) -> str:
    return " ; ".join(OBJECTIVE_LABELS[goal] for goal in goals)
