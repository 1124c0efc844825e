"""Which missing fact is worth a question: the value of an answer to the first recommendation.

The engine lists every fact it misses (`RecommendationResult.missing_facts`); a conversation that
asked them all would be long. `worth_asking` keeps a fact only when some answer to it could change
the products shown first: the fact is probed with each answer it can take (every value of its
vocabulary, a few counts, each vehicle, pet, project or held category, a budget just under each
product's starting price) and the engine run again; if no answer changes the first three
products, the question is not worth the prospect's time. Eligibility and suitability facts are
always worth asking: until they are known the product they block cannot be shown at all.

`focus` narrows the comparison to some products (those answering the prospect's stated goals):
then only the order and presence of those products counts.
"""

from collections.abc import Iterable
from functools import cache
from typing import Any, get_args, get_origin

from product_catalog.engine import MissingFact, RecommendationResult, SuitabilityEngine
from product_catalog.profile import NeedsProfile, Pet, Vehicle
from product_catalog.vocabulary import VehicleKind

TOP = 3
# Counts worth distinguishing: none, one, several.
_COUNTS = (0, 1, 3)
_PET_AGE = 3  # an age every insurable pet accepts: the species is what is probed
ALWAYS_WORTH_ASKING = frozenset({"eligibility", "suitability"})


def top_codes(result: RecommendationResult, focus: frozenset[str] | None = None) -> tuple[str, ...]:
    """The codes of the first products shown, among `focus` when given."""
    codes = [item.code for item in result.items if focus is None or item.code in focus]
    return tuple(codes[:TOP])


def worth_asking(
    engine: SuitabilityEngine,
    profile: NeedsProfile,
    fact: MissingFact,
    baseline: tuple[str, ...],
    focus: frozenset[str] | None = None,
) -> bool:
    """Whether some answer to `fact` changes `baseline`, the first products shown today."""
    if fact.kind in ALWAYS_WORTH_ASKING or "." in fact.field:
        return True
    for value in probe_values(engine, fact.field):
        probed = profile.model_copy(update={fact.field: value})
        if top_codes(engine.recommend(probed), focus) != baseline:
            return True
    return False


def probe_values(engine: SuitabilityEngine, field: str) -> tuple[Any, ...]:
    """The answers a top-level profile fact can take, one per distinct effect on the engine."""
    if field == "monthly_budget_eur":
        return _budgets(engine)
    if field == "current_coverage":
        categories = sorted({product.category for product in engine.catalogue.products})
        return ([], *([category] for category in categories))
    return _values_of(field)


def _budgets(engine: SuitabilityEngine) -> tuple[float, ...]:
    """Just under each starting price, and above them all: every budget the engine tells apart."""
    minimums = sorted(
        {
            product.price.monthly_minimum_eur
            for product in engine.catalogue.products
            if product.price.monthly_minimum_eur is not None
        }
    )
    if not minimums:
        return ()
    return (*(max(minimum - 1.0, 0.0) for minimum in minimums), minimums[-1] + 1.0)


@cache
def _values_of(field: str) -> tuple[Any, ...]:
    annotation = NeedsProfile.model_fields[field].annotation
    kinds = [arg for arg in get_args(annotation) if arg is not type(None)] or [annotation]
    kind = kinds[0]
    if kind is bool:
        return (True, False)
    if kind is int:
        return _COUNTS
    if get_origin(kind) is list:
        return ([], *_items(get_args(kind)[0]))
    literal = [value for value in get_args(kind) if isinstance(value, str)]
    if literal:
        return tuple(literal)
    raise ValueError(f"no probe values for the profile fact {field!r}")


def _items(item_type: Any) -> Iterable[list[Any]]:
    """One single-item list per kind of item: each vehicle kind, pet species, project kind."""
    if item_type is Vehicle:
        return [[Vehicle(kind=kind)] for kind in get_args(VehicleKind)]
    if item_type is Pet:
        species = get_args(Pet.model_fields["species"].annotation)
        return [[Pet(species=name, age_years=_PET_AGE)] for name in species]
    projects = get_args(get_args(item_type)[0])  # Annotated[Union[...], discriminator]
    return [
        [project(kind=get_args(project.model_fields["kind"].annotation)[0])] for project in projects
    ]
