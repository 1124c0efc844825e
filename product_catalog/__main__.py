"""Command line of the catalogue.

    python -m product_catalog list [--json] [--category CODE]
    python -m product_catalog recommend PROFILE.json [--json]      (PROFILE "-" reads stdin)
    python -m product_catalog validate
    python -m product_catalog load [--database-url URL]

Exit status: 0 on success, 2 on bad input (usage, profile or catalogue files) with a one-line
message naming the field, 1 when the database cannot be written.
"""

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from pydantic import ValidationError

from product_catalog.categories import CATEGORY_CODES
from product_catalog.engine import RecommendationResult, SuitabilityEngine
from product_catalog.errors import (
    CatalogueFileError,
    CatalogueStorageError,
    ProfileValidationError,
)
from product_catalog.loader import DEFAULT_INSURER_FILE, DEFAULT_PRODUCTS_DIR, load_catalogue
from product_catalog.profile import NeedsProfile
from product_catalog.schema import Catalogue

PROGRAM = "product_catalog"
EXIT_BAD_INPUT = 2
EXIT_STORAGE_ERROR = 1


def fail(message: str, status: int = EXIT_BAD_INPUT) -> NoReturn:
    print(f"{PROGRAM}: error: {message}", file=sys.stderr)
    sys.exit(status)


def read_profile(source: str) -> NeedsProfile:
    """Parse a profile file (or stdin for "-"); ProfileValidationError names the bad field."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ProfileValidationError("profile", f"cannot read {source}: {error}") from error
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ProfileValidationError(
            "profile", f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from error
    if not isinstance(data, dict):
        raise ProfileValidationError("profile", "the profile must be a JSON object")
    try:
        return NeedsProfile.model_validate(data)
    except ValidationError as error:
        raise ProfileValidationError.from_validation_error(error) from error


def _catalogue(arguments: argparse.Namespace) -> Catalogue:
    try:
        return load_catalogue(arguments.products_dir, arguments.insurer)
    except CatalogueFileError as error:
        fail(f"invalid catalogue: {error.problems[0]}" + _more(len(error.problems)))


def _more(count: int) -> str:
    return (
        f" (and {count - 1} more problem(s); run `python -m {PROGRAM} validate`)"
        if count > 1
        else ""
    )


def command_list(arguments: argparse.Namespace) -> None:
    catalogue = _catalogue(arguments)
    products = catalogue.products
    if arguments.category is not None:
        products = catalogue.in_category(arguments.category)
    if arguments.json:
        print(
            json.dumps([p.model_dump(mode="json") for p in products], ensure_ascii=False, indent=2)
        )
        return
    for product in products:
        print(f"{product.code:<18} {product.category:<22} {product.name}")


def command_recommend(arguments: argparse.Namespace) -> None:
    try:
        profile = read_profile(arguments.profile)
    except ProfileValidationError as error:
        fail(str(error))
    result = SuitabilityEngine(_catalogue(arguments)).recommend(profile)
    if arguments.json:
        print(result.model_dump_json(indent=2))
    else:
        print(render_result(result))


def render_result(result: RecommendationResult) -> str:
    """A plain-text report in French, for a person reading a terminal."""
    lines = []
    if result.advisor_required:
        lines.append("Un conseiller doit prendre le relais :")
        lines.extend(f"  - {reason}" for reason in result.advisor_reasons)
    lines.append("Produits proposés :" if result.items else "Aucun produit proposé pour l'instant.")
    for rank, item in enumerate(result.items, start=1):
        lines.append(f"  {rank}. {item.name} ({item.code}, {item.category}) — score {item.score}")
        lines.extend(f"     + {reason}" for reason in item.reasons)
        lines.extend(f"     ! {warning}" for warning in item.warnings)
    if result.warnings:
        lines.append("Points d'attention :")
        lines.extend(f"  ! {warning}" for warning in result.warnings)
    if result.missing_facts:
        lines.append("Questions à poser ensuite :")
        lines.extend(
            f"  ? {fact.question_fr} [{fact.field} → {', '.join(fact.affects)}]"
            for fact in result.missing_facts
        )
    if result.excluded:
        lines.append("Produits écartés :")
        for excluded in result.excluded:
            lines.append(f"  x {excluded.name} ({excluded.code}) : {' '.join(excluded.reasons)}")
    lines.append(f"(catalogue {result.catalogue_version})")
    return "\n".join(lines)


def command_validate(arguments: argparse.Namespace) -> None:
    try:
        catalogue = load_catalogue(arguments.products_dir, arguments.insurer)
    except CatalogueFileError as error:
        for problem in error.problems:
            print(f"{PROGRAM}: error: {problem}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
    categories = {product.category for product in catalogue.products}
    print(
        f"catalogue valid: {len(catalogue.products)} products in {len(categories)} categories "
        f"(version {catalogue.version})"
    )


def command_load(arguments: argparse.Namespace) -> None:
    # The database is only needed by this command.
    from common.db import ApplicationDatabaseSettings, engine_from_url
    from product_catalog.db import store_catalogue

    url = arguments.database_url or ApplicationDatabaseSettings().database_url
    catalogue = _catalogue(arguments)
    engine = engine_from_url(url)
    try:
        store_catalogue(engine, catalogue)
    except CatalogueStorageError as error:
        fail(str(error), EXIT_STORAGE_ERROR)
    finally:
        engine.dispose()
    print(f"stored {len(catalogue.products)} products (version {catalogue.version})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m {PROGRAM}",
        description="Vergemont Assurances product catalogue and suitability engine.",
    )
    parser.add_argument(
        "--products-dir", type=Path, default=DEFAULT_PRODUCTS_DIR, help="folder of product files"
    )
    parser.add_argument(
        "--insurer", type=Path, default=DEFAULT_INSURER_FILE, help="insurer description file"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="list the products")
    listing.add_argument("--json", action="store_true", help="print every field as JSON")
    listing.add_argument("--category", choices=sorted(CATEGORY_CODES), help="only this category")
    listing.set_defaults(handler=command_list)

    recommend = commands.add_parser("recommend", help="rank the products for a needs profile")
    recommend.add_argument(
        "profile", help="profile JSON file (see docs/profile-format.md), - for stdin"
    )
    recommend.add_argument("--json", action="store_true", help="print the result as JSON")
    recommend.set_defaults(handler=command_recommend)

    validate = commands.add_parser("validate", help="check every catalogue file")
    validate.set_defaults(handler=command_validate)

    load = commands.add_parser("load", help="store the catalogue in the database (one transaction)")
    load.add_argument(
        "--database-url", help="default: WEBAPP_DATABASE_URL, else sqlite:///.run/webapp.db"
    )
    load.set_defaults(handler=command_load)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    arguments = build_parser().parse_args(argv)
    try:
        arguments.handler(arguments)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (`... | head`): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


if __name__ == "__main__":
    main()
