"""Webhooks: issuers register endpoints for credential and pathway events; every event is put in
an outbox in the transaction that made it, and a dispatcher POSTs it, signed, until the
endpoint takes it. Submodules are imported where needed (``microcred.events`` imports
:mod:`.outbox`, which must not pull in the services that record events)."""
