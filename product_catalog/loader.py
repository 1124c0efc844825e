"""Read the catalogue YAML files into validated models.

Every problem is collected before anything is returned, each located by file, product and field,
so `python -m product_catalog validate` lists them all at once and a bad file is never half-loaded.
"""

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from product_catalog.categories import CATEGORIES
from product_catalog.errors import CatalogueFileError, CatalogueProblem
from product_catalog.schema import Catalogue, Insurer, Product, ProductFile

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_PRODUCTS_DIR = PACKAGE_DIR / "products"
DEFAULT_INSURER_FILE = PACKAGE_DIR / "insurer.yaml"
CATEGORY_ORDER = {category.code: index for index, category in enumerate(CATEGORIES)}


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key written twice in the same mapping (a silent overwrite)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"the key {key!r} is written twice",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _field(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location) or "(root)"


def _read_yaml(path: Path, problems: list[CatalogueProblem]) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problems.append(CatalogueProblem(_display(path), f"cannot read the file: {error}"))
        return None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506  # a SafeLoader subclass
    except yaml.YAMLError as error:
        problems.append(
            CatalogueProblem(_display(path), f"invalid YAML: {error}".replace("\n", " "))
        )
        return None


def _validation_problems(
    error: ValidationError, file: str, product: str | None, prefix: tuple[int | str, ...] = ()
) -> list[CatalogueProblem]:
    return [
        CatalogueProblem(file, item["msg"], product=product, field=_field(prefix + item["loc"]))
        for item in error.errors(include_url=False)
    ]


def load_insurer(path: Path, problems: list[CatalogueProblem]) -> Insurer | None:
    data = _read_yaml(path, problems)
    if data is None:
        return None
    try:
        return Insurer.model_validate(data)
    except ValidationError as error:
        problems.extend(_validation_problems(error, _display(path), None))
        return None


def load_product_file(
    path: Path, problems: list[CatalogueProblem]
) -> tuple[str | None, list[Product]]:
    """The category and valid products of one file; each defect is appended to `problems`."""
    file = _display(path)
    known_problems = len(problems)
    data = _read_yaml(path, problems)
    if data is None and len(problems) == known_problems:
        problems.append(CatalogueProblem(file, "the file is empty"))
    if data is None:
        return None, []
    try:
        content = ProductFile.model_validate(data)
    except ValidationError as error:
        problems.extend(_validation_problems(error, file, None))
        return None, []
    products = []
    for index, raw in enumerate(content.products):
        code = raw.get("code")
        name = code if isinstance(code, str) else f"#{index + 1}"
        if "category" in raw:
            problems.append(
                CatalogueProblem(
                    file,
                    "remove it: a product takes the category of its file",
                    product=name,
                    field="category",
                )
            )
            continue
        try:
            products.append(Product.model_validate({**raw, "category": content.category}))
        except ValidationError as error:
            problems.extend(_validation_problems(error, file, name))
    return content.category, products


def _cross_check(
    products_by_file: dict[str, list[Product]],
    categories: set[str | None],
    problems: list[CatalogueProblem],
) -> None:
    """Checks that span files: unique codes and document names, every category present.

    `categories` holds the category of each file, None for a file already reported unreadable
    (whose category is then unknown, so a missing category would be a false alarm).
    """
    code_owner: dict[str, str] = {}
    document_owner: dict[str, str] = {}
    for file, products in products_by_file.items():
        for product in products:
            if product.code in code_owner:
                problems.append(
                    CatalogueProblem(
                        file,
                        f"duplicate code, already used in {code_owner[product.code]}",
                        product=product.code,
                        field="code",
                    )
                )
            code_owner.setdefault(product.code, file)
            for index, document in enumerate(product.documents):
                owner = document_owner.setdefault(document.filename, product.code)
                if owner != product.code:
                    problems.append(
                        CatalogueProblem(
                            file,
                            f"file name {document.filename} already used by product {owner}",
                            product=product.code,
                            field=f"documents.{index}.filename",
                        )
                    )
    if None in categories or not products_by_file:
        return
    for category in CATEGORIES:
        if category.code not in categories:
            problems.append(
                CatalogueProblem("catalogue", f"no product file for category {category.code!r}")
            )


def catalogue_version(insurer: Insurer, products: tuple[Product, ...]) -> str:
    """A short fingerprint of the content, quoted in every recommendation for the audit trail."""
    canonical = json.dumps(
        {
            "insurer": insurer.model_dump(mode="json"),
            "products": [product.model_dump(mode="json") for product in products],
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def load_catalogue(
    products_dir: Path = DEFAULT_PRODUCTS_DIR, insurer_file: Path = DEFAULT_INSURER_FILE
) -> Catalogue:
    """Load and validate every file; raise CatalogueFileError listing all problems found."""
    problems: list[CatalogueProblem] = []
    insurer = load_insurer(insurer_file, problems)
    files = sorted(products_dir.glob("*.yaml")) if products_dir.is_dir() else []
    if not files:
        problems.append(CatalogueProblem(_display(products_dir), "no product file (*.yaml) found"))
    products_by_file: dict[str, list[Product]] = {}
    categories: set[str | None] = set()
    for path in files:
        category, products_in_file = load_product_file(path, problems)
        products_by_file[_display(path)] = products_in_file
        categories.add(category)
    _cross_check(products_by_file, categories, problems)
    if problems or insurer is None:
        raise CatalogueFileError(problems)
    products = tuple(
        sorted(
            (product for products in products_by_file.values() for product in products),
            key=lambda product: (CATEGORY_ORDER[product.category], product.code),
        )
    )
    return Catalogue(
        insurer=insurer, products=products, version=catalogue_version(insurer, products)
    )
