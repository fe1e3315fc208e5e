# /api-reference: the node's OpenAPI description read out. The operations' and types' own
# descriptions come from the description itself and stay as the REST API words them.
apiref-title = API reference
# One sentence around links: { Machine-readable: } /openapi.json { (OpenAPI 3.1). Every error answers } ErrorBody{ . Keys are made on the } API keys { page. }
apiref-machine-readable = Machine-readable:
apiref-errors-answer = (OpenAPI 3.1). Every error answers
apiref-keys-made-on = . Keys are made on the
apiref-keys-page = page.
apiref-no-key = no key needed
apiref-parameter = Parameter
apiref-in-type = In, type
apiref-required = Required
apiref-body = Body: { $body }
apiref-status = Status
apiref-answer = Answer
apiref-type = Type
apiref-types = Types
apiref-field = Field

# A schema in a few words.
apiref-one-of = one of { $values }
apiref-either = { $first } or { $second }
apiref-both = { $first } and { $second }
apiref-array-of = array of { $item }
apiref-map-of = map of { $value }
apiref-any = any
