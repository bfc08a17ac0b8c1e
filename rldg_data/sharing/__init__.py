"""Sharing a dataset safely: a checksummed archive, unpacked and verified without trusting it.

`archive` packs a dataset folder with a manifest of checksums, unpacks an archive (rejecting unsafe
paths) and verifies a dataset against its manifest and the contract; `cli` is `rldg pack`,
`rldg unpack` and `rldg verify`. Import from the submodules; this package init re-exports nothing.
"""
