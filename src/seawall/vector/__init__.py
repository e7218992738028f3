"""Vectors shared by every capability that compares meaning: embedders (ONNX MiniLM and its
3-layer student), nearest-neighbour indexes (flat, HNSW, IVF) and the pair verifier that
refuses look-alikes. The semantic cache uses them today; RAG, shadow-diff scoring and drift
detection will too. Nothing here knows about requests, tenants or the gateway."""
