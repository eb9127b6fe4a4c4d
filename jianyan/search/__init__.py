"""Search: embeddings, vector and keyword indexes derived from the store, fusion, evaluation."""
