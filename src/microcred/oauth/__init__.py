"""OAuth 2.0 for the OB 3.0 API: hosts register themselves (RFC 7591), learners authorize them
with the authorization code grant and PKCE S256 (RFC 6749, RFC 7636), tokens expire and refresh
with rotation, and either party can revoke (RFC 7009).

https://www.imsglobal.org/spec/ob/v3p0/#api-security
"""
