"""The W3C VC-API: issue any VC 1.1 or 2.0 credential, change its status, verify credentials and
presentations (https://w3c-ccg.github.io/vc-api/)."""
