def dumps(inv, **_): return ''
