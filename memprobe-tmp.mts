import * as S from "./src/index.js";
const wasm = await S.initWasm({ threads: 1, maximumBytes: 4 * 1024 ** 3 });
const name = process.argv[2] ?? "resnet18", batch = Number(process.argv[3] ?? 8);
const model = S.models.getModel(name as never, { numClasses: 1000 } as never).train() as any;
const opt = new S.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
const x = S.randn([batch, 3, 224, 224]);
const y = S.tensor(Array.from({ length: batch }, (_, i) => i), [batch], { dtype: "int32" });
const mb = (b: number) => (b / 2 ** 20).toFixed(0) + " MiB";
const mem = wasm.runtime.mem as any; let maxLive = 0; const origAlloc = mem.alloc.bind(mem);
mem.alloc = (b: number) => { const p = origAlloc(b); if (mem.bytesLive > maxLive) maxLive = mem.bytesLive; return p; };
const st = () => ({ ...wasm.runtime.mem.stats(), maxLive });
let params = 0; for (const p of model.parameters()) params += p.size * 4;
console.log("params", mb(params), "live at start", mb(st().liveBytes));
for (let i = 0; i < 2; i++) {
  S.scope(() => {
    opt.zeroGrad();
    const out = model.forward(x);
    const loss = S.F.crossEntropy(out, y);
    console.log("after forward: live", mb(st().liveBytes), "top", mb(st().heapTop), "maxLive", mb(st().maxLive), "mem", mb(st().memoryBytes));
    loss.backward();
    console.log("after backward: live", mb(st().liveBytes), "top", mb(st().heapTop), "maxLive", mb(st().maxLive), "mem", mb(st().memoryBytes));
    opt.step();
    console.log("after step: live", mb(st().liveBytes), "top", mb(st().heapTop), "maxLive", mb(st().maxLive), "mem", mb(st().memoryBytes));
  });
}
