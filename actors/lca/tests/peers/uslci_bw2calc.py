"""Footprints of USLCI processes computed apart from Carbon Butler: this script reads the openLCA
JSON-LD archive itself (its own reader, written from the openLCA schema, sharing no code with
cb-lca), builds the technosphere and biosphere matrices and solves them with bw2calc.

Usage: python uslci_bw2calc.py ARCHIVE.tar.gz REQUEST.json
REQUEST: {"processes": [ids], "factors": {elementary flow id: kg CO2-eq per reference unit},
          "providers": {product flow name: provider process name}}
Prints {"scores": {process id: score per reference unit of its reference flow}}.

Modelling rules (the openLCA conventions): amounts are converted into the reference unit of the
flow's reference flow property (unit factor / flow-property factor); a product input or a waste
output links to its provider (default provider, else the named choice, else the only producer;
without one it is cut off); avoided products and avoided waste link with the opposite sign; a
multi-output process keeps the reference product and scales its other exchanges by the
allocation factor of its default method (physical where none is named).
"""

import json
import sys
import tarfile

import bw2calc
import bw_processing as bwp
import numpy as np


def read(archive):
    out = {"processes": [], "flows": {}, "flow_properties": {}, "unit_groups": {}}
    with tarfile.open(archive) as t:
        for m in t.getmembers():
            if not m.isfile() or not m.name.endswith(".json"):
                continue
            parts = m.name.split("/")
            kind = parts[-2] if len(parts) >= 2 else ""
            if kind not in out:
                continue
            doc = json.load(t.extractfile(m))
            if kind == "processes":
                out["processes"].append(doc)
            else:
                out[kind][doc["@id"]] = doc
    return out


def main():
    archive, request_path = sys.argv[1], sys.argv[2]
    request = json.load(open(request_path))
    d = read(archive)
    units = {}  # unit group id -> {unit id or name: factor}
    for g in d["unit_groups"].values():
        table = {}
        for u in g.get("units", []):
            f = u.get("conversionFactor", 1.0)
            if "@id" in u:
                table[u["@id"]] = f
            table[u["name"]] = f
        units[g["@id"]] = table
    prop_group = {p["@id"]: p["unitGroup"]["@id"] for p in d["flow_properties"].values()}
    flows = d["flows"]

    def ref_property(flow):
        props = flow.get("flowProperties", [])
        ref = next((p for p in props if p.get("referenceFlowProperty")), props[0] if props else None)
        return ref["flowProperty"]["@id"]

    def amount(ex, flow):
        prop = (ex.get("flowProperty") or {}).get("@id") or ref_property(flow)
        fpf = next(p for p in flow["flowProperties"] if p["flowProperty"]["@id"] == prop)
        unit = ex.get("unit")
        factor = 1.0
        if unit:
            table = units[prop_group[prop]]
            factor = table.get(unit.get("@id"), table.get(unit.get("name")))
        return ex.get("amount", 0.0) * factor / fpf.get("conversionFactor", 1.0)

    kind = lambda f: f.get("flowType")
    procs = [p for p in d["processes"] if any(e.get("quantitativeReference") for e in p.get("exchanges", []))]
    index = {p["@id"]: i for i, p in enumerate(procs)}
    name_index = {}
    producers = {}
    for i, p in enumerate(procs):
        ref = next(e for e in p["exchanges"] if e.get("quantitativeReference"))
        producers.setdefault(ref["flow"]["@id"], []).append(i)
        name_index.setdefault(p["name"].strip(), i)
    flow_row = {}
    tech, bio = [], []
    for j, p in enumerate(procs):
        ref = next(e for e in p["exchanges"] if e.get("quantitativeReference"))
        tech.append((j, j, amount(ref, flows[ref["flow"]["@id"]])))
        co_products = [
            e for e in p["exchanges"]
            if not e.get("quantitativeReference") and not e.get("input") and not e.get("avoidedProduct")
            and kind(flows[e["flow"]["@id"]]) not in ("ELEMENTARY_FLOW", "WASTE_FLOW")
        ]
        share = 1.0
        if co_products:
            method = p.get("defaultAllocationMethod") or "PHYSICAL_ALLOCATION"
            factors = [
                a for a in p.get("allocationFactors", [])
                if a.get("allocationType") == method and (a.get("product") or {}).get("@id") == ref["flow"]["@id"]
            ]
            whole = [a for a in factors if not a.get("exchange")]
            if whole or factors:
                share = (whole or factors)[0].get("value", 1.0)
        for e in p["exchanges"]:
            if e.get("quantitativeReference"):
                continue
            flow = flows[e["flow"]["@id"]]
            if kind(flow) == "ELEMENTARY_FLOW":
                row = flow_row.setdefault(flow["@id"], len(flow_row))
                bio.append((row, j, amount(e, flow) * share))
                continue
            waste = kind(flow) == "WASTE_FLOW"
            if not ((e.get("input") and not waste) or (not e.get("input") and waste)):
                continue
            value = (-1.0 if e.get("avoidedProduct") else 1.0) * amount(e, flow) * share
            provider = index.get((e.get("defaultProvider") or {}).get("@id"))
            if provider is None and flow["name"].strip() in request["providers"]:
                provider = name_index.get(request["providers"][flow["name"].strip()])
            if provider is None and len(producers.get(flow["@id"], [])) == 1:
                provider = producers[flow["@id"]][0]
            if provider is not None:
                tech.append((provider, j, -value))
    n, m = len(procs), len(flow_row)
    # bw2calc works on ids: activities 0..n-1, elementary flows n..n+m-1.
    dp = bwp.create_datapackage()
    dp.add_persistent_vector(
        matrix="technosphere_matrix",
        indices_array=np.array([(int(r), int(c)) for r, c, _ in tech], dtype=bwp.INDICES_DTYPE),
        data_array=np.array([float(v) for _, _, v in tech]),
        name="technosphere",
    )
    dp.add_persistent_vector(
        matrix="biosphere_matrix",
        indices_array=np.array([(n + r, c) for r, c, _ in bio], dtype=bwp.INDICES_DTYPE),
        data_array=np.array([float(v) for _, _, v in bio]),
        name="biosphere",
    )
    cf = [(n + flow_row[f], float(v)) for f, v in request["factors"].items() if f in flow_row]
    dp.add_persistent_vector(
        matrix="characterization_matrix",
        indices_array=np.array([(i, i) for i, _ in cf], dtype=bwp.INDICES_DTYPE),
        data_array=np.array([v for _, v in cf]),
        name="characterization",
    )
    wanted = [index[i] for i in request["processes"]]
    lca = bw2calc.LCA({wanted[0]: 1.0}, data_objs=[dp])
    lca.lci()
    lca.lcia()
    scores = {}
    for pid, j in zip(request["processes"], wanted):
        lca.lci({j: 1.0})  # the factorisation is kept and reused
        lca.lcia_calculation()
        scores[pid] = float(lca.score)
    print(json.dumps({"scores": scores, "activities": n, "elementary_flows": m}))


main()
