"""The hub index resolver reads a card's license_name and license_link when the index holds them (session 6).

A base whose card says `license: other` + `license_name: llama3` resolved through the index as "other": an
unknown licence. The index rows' licence items may carry the name and link as a 4th and 5th element.
"""

from __future__ import annotations

import json
import sqlite3

from aitrail.analyze import licenses as L
from aitrail.hub import index
from aitrail.resolvers.hub_index import HubIndexResolver


def test_a_name_and_link_in_the_index_row_reach_the_resolution(tmp_path):
    p = tmp_path / "m.jsonl"
    card = "---\\nlicense: other\\nlicense_name: llama3\\n---\\n"
    p.write_text('{"id": "a/base", "sha": "1", "card": "' + card + '"}\n', "utf-8")
    index.build([str(p)], tmp_path / "ix")
    db = tmp_path / "ix" / "index.sqlite"
    # three items per licence (the index as built today) still read; five carry the name and the link
    facts = HubIndexResolver(tmp_path / "ix").lookup("a/base")
    assert facts is not None and facts.licences[0].value == "other"
    con = sqlite3.connect(db)
    [(row,)] = con.execute("select licences from models where id = 'a/base'").fetchall()
    items = [[*x[:3], "llama3", "https://llama.meta.com/llama3/license/"] for x in json.loads(row)]
    con.execute("update models set licences = ? where id = 'a/base'", (json.dumps(items),))
    con.commit()
    con.close()
    [ev] = HubIndexResolver(tmp_path / "ix").lookup("a/base").licences
    assert (ev.name, ev.link) == ("llama3", "https://llama.meta.com/llama3/license/")
    assert L.resolve(ev.value, ev.name, ev.link).id == "LicenseRef-aitrail-llama-3"
