#!/usr/bin/env python3
"""Signs a NeuroController operator command for <prefix>/silences/set (docs/security.md).

usage: MQTT_COMMAND_KEY=... sign-command.py SIGNER 'PAYLOAD-JSON' [KIND]
e.g.   sign-command.py ops@laptop '{"action":"expire","id":"m0123456789abcde"}' \
         | mosquitto_pub -h broker -u ops -P ... -t neurocontroller/<cluster>/silences/set -q 1 -s
Use integers and strings in the payload (a float such as 1.0 is written differently by Python and
JavaScript, and the signature covers the exact canonical JSON).
"""
import hashlib
import hmac
import json
import os
import secrets
import sys
import time


def sign(key: str, signer: str, payload: dict, kind: str = "silence") -> str:
    kid = hashlib.sha256(("neurocontroller-command-key\n" + key).encode()).hexdigest()[:16]
    env = {"v": 1, "kind": kind, "kid": kid, "signer": signer,
           "ts": int(time.time() * 1000), "nonce": secrets.token_urlsafe(18), "payload": payload}
    canonical = "\n".join(["neurocontroller-command/v1", kind, kid, signer, str(env["ts"]), env["nonce"],
                           json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)])
    env["sig"] = hmac.new(key.encode(), canonical.encode(), hashlib.sha256).hexdigest()
    return json.dumps(env)


if __name__ == "__main__":
    if len(sys.argv) < 3 or not os.environ.get("MQTT_COMMAND_KEY"):
        sys.exit(__doc__)
    print(sign(os.environ["MQTT_COMMAND_KEY"], sys.argv[1], json.loads(sys.argv[2]), *sys.argv[3:4]))
