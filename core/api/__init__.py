"""The shared pieces of the REST API: base viewsets and serializers, errors, auth, paging."""
