"""The learner's backpack (``/me``) and share-all links (``/share/{token}``)."""
