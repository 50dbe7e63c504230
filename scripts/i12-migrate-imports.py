#!/usr/bin/env python3
# One-shot helper for merging branches made before the i12 restructure (delete it once they are merged).
# Rewrites relative imports of moved modules to their new homes, symbol by symbol, and is idempotent:
# an import that already resolves to an existing file that did not move is left alone.
#   python3 scripts/i12-migrate-imports.py $(git ls-files '*.ts')
# Then `npx tsc --noEmit -p .` names what is left (e.g. a symbol this table does not know).
import os, re, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCIDENT_TYPES = {s: "src/model/incident.ts" for s in ["Incident", "IncidentMember", "IncidentChange", "IncidentScope", "IncidentChangeType"]}
KUBE_OBJECTS = {s: "src/kube/objects.ts" for s in ["ownerChain", "owningWorkload", "ObjectRef", "CacheView"]}
# old module -> {symbol: new module, "*": every other symbol}; "inside" = importers exempt (they keep the re-export)
MAP = {
    "src/watchers/types.ts": ({"Anomaly": "src/model/anomaly.ts", "Severity": "src/model/anomaly.ts", "anomalyKey": "src/model/anomaly.ts",
                               "CacheView": "src/kube/objects.ts", "*": "src/watchers/types.ts"}, "src/watchers/"),
    "src/alerting/types.ts": ({"*": "src/model/alert.ts"}, None),
    "src/diagnosis/fingerprint.ts": ({"*": "src/model/fingerprint.ts"}, None),
    "src/diagnosis/incidents.ts": ({**INCIDENT_TYPES, "*": "src/correlation/incidents.ts"}, None),
    "src/correlation/incidents.ts": ({**INCIDENT_TYPES, "*": "src/correlation/incidents.ts"}, None),
    "src/diagnosis/topology.ts": ({"SEVERITY_RANK": "src/model/anomaly.ts", "*": "src/correlation/topology.ts"}, None),
    "src/correlation/topology.ts": ({"SEVERITY_RANK": "src/model/anomaly.ts", "*": "src/correlation/topology.ts"}, None),
    "src/watchers/replicaset.ts": ({**KUBE_OBJECTS, "*": "src/watchers/replicaset.ts"}, None),
    "src/controller/demo-cluster.ts": ({"*": "src/sim/demo-cluster.ts"}, None),
    "src/sim/scenarios.ts": ({"*": "src/sim/kit.ts"}, "src/sim/"),
    "src/cli/controller.ts": ({"waitForSignal": "src/cli/signals.ts", "*": "src/cli/controller.ts"}, None),
    **{f"test/support/{n}.ts": ({"*": f"testkit/{n}.ts"}, None) for n in ["mosquitto", "smtp", "slack-receiver", "ports", "wait"]},
}
MOVED_FROM = {"src/model/alert.ts": "src/alerting/types.ts", "src/model/fingerprint.ts": "src/diagnosis/fingerprint.ts",
              "src/correlation/incidents.ts": "src/diagnosis/incidents.ts", "src/correlation/topology.ts": "src/diagnosis/topology.ts",
              "src/sim/demo-cluster.ts": "src/controller/demo-cluster.ts",
              **{f"testkit/{n}.ts": f"test/support/{n}.ts" for n in ["mosquitto", "smtp", "slack-receiver", "ports", "wait"]}}
STMT = re.compile(r'^(import|export)( type)? \{([^}]*)\} from "(\.[^"]+)";[ \t]*$', re.M)


def rel(frm, to):
    r = os.path.relpath(to, os.path.dirname(frm))
    return r if r.startswith(".") else "./" + r


def rewrite(frel, src):
    def sub(m):
        kw, typeall, names, spec = m.group(1), m.group(2) or "", m.group(3), m.group(4)
        here = os.path.normpath(os.path.join(os.path.dirname(frel), spec))
        target = here
        if here not in MAP and not os.path.exists(os.path.join(ROOT, here)) and frel in MOVED_FROM:
            target = os.path.normpath(os.path.join(os.path.dirname(MOVED_FROM[frel]), spec))
        if target not in MAP:
            return m.group(0) if target == here else f'{kw}{typeall} {{{names}}} from "{rel(frel, target)}";'
        table, exempt = MAP[target]
        if exempt and frel.startswith(exempt):
            return m.group(0)
        groups = {}
        for n in [x.strip() for x in names.split(",") if x.strip()]:
            base = re.sub(r"^type\s+", "", n).split(" as ")[0].strip()
            groups.setdefault(table.get(base, table["*"]), []).append(n)
        return "\n".join(f'{kw}{typeall} {{ {", ".join(ns)} }} from "{rel(frel, mod)}";' for mod, ns in groups.items() if mod != frel)
    return STMT.sub(sub, src)


for f in sys.argv[1:]:
    frel = os.path.relpath(os.path.abspath(f), ROOT)
    src = open(f).read()
    new = rewrite(frel, src)
    if new != src:
        open(f, "w").write(new)
        print("rewrote", frel)
