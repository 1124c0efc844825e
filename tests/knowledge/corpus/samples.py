"""A small corpus source (front matter and a body using every block type) for the corpus tests."""

from pathlib import Path

FRONT = """---
title: Conditions générales Vergemont Essai
product_code: VG-ESSAI
kind: conditions_generales
reference: CG-ESSAI
version: 2026-01
effective_date: 2026-01-01
---
"""

BODY = """# Chapitre 1 — Dispositions générales

## Article 1 — Objet

Le contrat garantit l'**assuré** contre les *conséquences* d'un sinistre,
dans la limite de 150 000 € par an.

- premier point
- second point qui continue
  sur la ligne suivante

| Garantie | Plafond | Franchise |
|---|---|---|
| Vol | 8 000 € | 150 € |
| Incendie | 300 000 € | aucune |

<!-- columns: 2 -->
### Sous-article

Texte en colonnes.
<!-- pagebreak -->
<!-- columns: 1 -->
"""


def write_source(root: Path, text: str, stem: str = "vg-essai-conditions-generales") -> Path:
    path = root / "essai" / f"{stem}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def long_body(articles: int) -> str:
    paragraph = "L'assureur verse l'indemnité dans un délai de trente jours. " * 12
    return "\n".join(f"## Article {n}\n\n{paragraph}\n" for n in range(1, articles + 1))
