// `import path from "./x.bpf.o" with { type: "file" }` yields a path (a $bunfs path inside a compiled binary).
declare module "*.bpf.o" {
  const path: string;
  export default path;
}
