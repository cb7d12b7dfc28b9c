"""Contract use cases, one module per family of verbs (signing itself is services/signing.py):

- launch: initiate (from templates), initiate_from_upload, ask_worker_to_sign
- lifecycle: mark_viewed, remind, withdraw, reinitiate, decline, expire_due
- queries: list_for_enterprise, list_for_worker, counts_for_*, get_contract, contract_events,
  document, page_image, signer_refusal
- evidence: evidence_report
- seals: list_seals, create_seal, seal_image
- controls: the values each side fills and the fields their marks go into
- audit: Context and audit entries, the rows of the contract's hash-chained audit trail

Callers import from the module that has the verb; this package re-exports nothing."""
