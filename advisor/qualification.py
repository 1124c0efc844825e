"""Lead qualification: a score and a level from the profile's completeness and the intent shown.

The score is deterministic and explained: `rule` names the rule that produced the level, in French,
so an advisor (or an auditor) can see why a lead is hot, warm or cold.

- completeness (0–60): the share of the key profile facts that are known, plus both contact means;
- intent (0–40): an explicit request for an advisor weighs most, then a special situation that
  needs one, then a follow-up of a recommendation; a handoff after misunderstandings weighs least.
"""

from __future__ import annotations

from dataclasses import dataclass

from advisor.handoff import HandoffRequest

KEY_FACTS = (
    "age",
    "family_situation",
    "employment_status",
    "housing_status",
    "projects",
    "vehicles",
    "monthly_budget_eur",
    "current_coverage",
)
INTENT_POINTS = {"asked": 40, "special_situation": 32, "recommendation": 26, "misunderstanding": 10}
LEVELS = ("hot", "warm", "cold")
LEVEL_LABELS = {"hot": "Chaud", "warm": "Tiède", "cold": "Froid"}
QUALIFIED_LEVELS = frozenset({"hot", "warm"})


@dataclass(frozen=True)
class Qualification:
    score: int
    level: str
    rule: str


def qualify(request: HandoffRequest) -> Qualification:
    known = sum(1 for fact in KEY_FACTS if request.profile.get(fact) not in (None, [], ""))
    completeness = round(50 * known / len(KEY_FACTS))
    both_contacts = request.contact.email is not None and request.contact.phone is not None
    completeness += 10 if both_contacts else 0
    intent = INTENT_POINTS.get(request.reason, 20)
    if request.advisor_required:
        intent = max(intent, INTENT_POINTS["special_situation"])
    score = min(completeness + intent, 100)
    share = f"{known}/{len(KEY_FACTS)} faits clés connus"
    if score >= 70 and request.recommendations:
        return Qualification(
            score, "hot", f"R1 : score {score} ≥ 70 avec produits proposés ({share})"
        )
    if score >= 45:
        detail = "entre 45 et 69" if score < 70 else "≥ 70 mais aucun produit proposé"
        return Qualification(score, "warm", f"R2 : score {score} {detail} ({share})")
    return Qualification(score, "cold", f"R3 : score {score} < 45 ({share})")
