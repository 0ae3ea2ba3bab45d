"""Awards: a provider's LMS reports a completion; we sign the credential, once."""
