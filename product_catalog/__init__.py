"""Product catalogue of the fictional insurer Vergemont Assurances and its suitability engine."""
