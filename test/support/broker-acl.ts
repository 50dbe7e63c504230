// Renders the ACL template the Ansible broker role ships (ansible/roles/neurocontroller_broker/
// templates/neurocontroller.acl.j2) with Jinja2 — the engine Ansible uses — so tests run mosquitto
// with exactly the shipped rules.
import { resolve } from "node:path";

export const ACL_TEMPLATE = resolve(import.meta.dir, "../../ansible/roles/neurocontroller_broker/templates/neurocontroller.acl.j2");

export interface AclVars {
  prefix: string;
  controller: string;
  /** Non-empty: per-node agent accounts (the pattern lines). */
  agentSecret: string;
  readers: { name: string; password: string }[];
  operators: { name: string; password: string }[];
}

export function renderBrokerAcl(v: AclVars): string {
  const vars = {
    ansible_managed: "Ansible managed",
    neurocontroller_mqtt_topic_prefix: v.prefix,
    neurocontroller_mqtt_username: v.controller,
    neurocontroller_mqtt_agent_secret: v.agentSecret,
    neurocontroller_mqtt_readers: v.readers,
    neurocontroller_mqtt_operators: v.operators,
  };
  const script = `import json, sys, jinja2
env = jinja2.Environment(loader=jinja2.FileSystemLoader("/"), undefined=jinja2.StrictUndefined, trim_blocks=True, keep_trailing_newline=True)
sys.stdout.write(env.get_template(sys.argv[1]).render(**json.loads(sys.stdin.read())))`;
  const p = Bun.spawnSync(["python3", "-c", script, ACL_TEMPLATE], { stdin: Buffer.from(JSON.stringify(vars)), stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`rendering ${ACL_TEMPLATE} failed: ${p.stderr.toString()}`);
  return p.stdout.toString();
}
