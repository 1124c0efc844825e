"""Training-data generation, retriever and LLM fine-tuning, and formal evaluation."""
