"""The public face of a credential: the page a person sees at its URL, and the LinkedIn link."""
