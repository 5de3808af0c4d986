/** The report's stylesheet, inlined in the page so it needs no external resource. */
export const STYLE = `
:root{--good:#1a7f37;--good-bg:#dafbe1;--warn:#9a6700;--warn-bg:#fff8c5;--bad:#cf222e;--bad-bg:#ffebe9;--neutral:#57606a;--neutral-bg:#eaeef2;--running:#0969da;--running-bg:#ddf4ff;--line:#d0d7de;--dim:#57606a;--bar:#0969da}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1f2328;background:#f6f8fa;margin:0}
main{max-width:72rem;margin:0 auto;padding:1.5rem 1.25rem 3rem}
code{font:0.9em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#eff1f3;padding:0 .25em;border-radius:4px;overflow-wrap:anywhere}
h1{font-size:2rem;margin:.1rem 0 .4rem;overflow-wrap:anywhere}
h2{font-size:1.3rem;margin:0 0 .75rem;padding-bottom:.3rem;border-bottom:1px solid var(--line)}
h3{font-size:1.02rem;margin:1.25rem 0 .5rem}
section,header.top{background:#fff;border:1px solid var(--line);border-radius:10px;padding:1.1rem 1.3rem;margin:0 0 1rem}
header.top{border-top:6px solid var(--neutral)}
header.top.good{border-top-color:var(--good)}header.top.warn{border-top-color:var(--warn)}header.top.bad{border-top-color:var(--bad)}header.top.running{border-top-color:var(--running)}
.kicker{margin:0;color:var(--dim);font-size:.85rem}
.lede{font-size:1.05rem;margin:.5rem 0 1rem}
.dim{color:var(--dim)}.small{font-size:.82rem}
.pill{display:inline-block;padding:.05rem .6rem;border-radius:999px;font-weight:600;font-size:.85rem;background:var(--neutral-bg);color:var(--neutral)}
.pill.big{font-size:1rem;padding:.15rem .8rem}.pill.small{font-size:.72rem;padding:0 .45rem}
.good.pill{background:var(--good-bg);color:var(--good)}.warn.pill{background:var(--warn-bg);color:var(--warn)}.bad.pill{background:var(--bad-bg);color:var(--bad)}.running.pill{background:var(--running-bg);color:var(--running)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(12rem,1fr));gap:.6rem;margin:0}
.cards div{border:1px solid var(--line);border-radius:8px;padding:.5rem .75rem;background:#fbfcfd}
.cards dt{font-size:.78rem;text-transform:uppercase;letter-spacing:.04em;color:var(--dim)}.cards dd{margin:.1rem 0 0;overflow-wrap:anywhere}
nav{display:flex;flex-wrap:wrap;gap:.2rem 1rem;margin:0 0 1rem;font-size:.9rem}nav a{color:var(--running);text-decoration:none}
table{border-collapse:collapse;width:100%;margin:.25rem 0 .5rem}
th,td{text-align:left;vertical-align:top;padding:.35rem .6rem;border-bottom:1px solid #eaeef2}
thead th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:var(--dim);border-bottom:1px solid var(--line)}
table.facts th{width:11rem;color:var(--dim);font-weight:500}
td.number,th.number{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.values{font-size:.88rem;color:#3d444d;overflow-wrap:anywhere}
tr.gated{background:#f6f8fa}tr.gated th{font-weight:700}
tr.dropped th code,tr.dropped td{color:var(--dim)}tr.dropped th code{text-decoration:line-through}
tr.failed-row th,tr.failed-row td{color:var(--bad)}
tfoot th,tfoot td{border-top:2px solid var(--line);border-bottom:0}
.role{font-size:.8rem;padding:0 .4rem;border-radius:4px;background:#eaeef2}
.role.target{background:var(--running-bg);color:var(--running);font-weight:600}.role.dropped{background:var(--bad-bg);color:var(--bad)}
.gate{border-radius:8px;padding:.75rem 1rem;margin:0 0 1rem;border:1px solid}
.gate.good{background:var(--good-bg);border-color:#aceebb}.gate.bad{background:var(--bad-bg);border-color:#ffcecb}
.gate-result{font-weight:700;font-size:1.1rem}.gate.good .gate-result{color:var(--good)}.gate.bad .gate-result{color:var(--bad)}
.gate-rule{font-size:1.25rem;margin:.2rem 0}.gate-metric{font-weight:600}.gate-value{font-weight:700;font-variant-numeric:tabular-nums}
.caption{color:var(--dim);font-size:.88rem;margin:.25rem 0 .5rem}
.missing{color:var(--dim);font-style:italic;margin:.25rem 0}
.plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(20rem,1fr));gap:1rem}
.plots.single{grid-template-columns:minmax(0,36rem)}
figure{margin:0}figure.plot{border:1px solid #eaeef2;border-radius:8px;padding:.5rem;background:#fff}
figure.plot img{display:block;width:100%;height:auto}
figcaption{font-size:.86rem;color:#3d444d;margin-top:.35rem}
figure.matrix{margin:1rem 0 0;max-width:36rem}
table.confusion{width:auto}table.confusion td{text-align:center;min-width:4rem;font-variant-numeric:tabular-nums}
table.confusion td.diag{background:color-mix(in srgb,var(--good) var(--shade),#fff)}table.confusion td.off{background:color-mix(in srgb,var(--bad) var(--shade),#fff)}
th.corner{font-size:.72rem;text-transform:none}
.bars{margin:.25rem 0 1rem}.bar-row{display:grid;grid-template-columns:9rem 1fr 9rem;gap:.6rem;align-items:center;margin:.25rem 0}
.bar-label{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}.bar-value{font-variant-numeric:tabular-nums;color:var(--dim);font-size:.88rem}
.track{display:block;height:.9rem;background:#eaeef2;border-radius:4px;overflow:hidden}
.fill{display:block;height:100%;background:var(--bar);border-radius:4px}.fill.warn{background:var(--warn)}.fill.step{background:#8250df}
.mini.track{display:inline-block;width:3rem;height:.5rem;vertical-align:middle}
.timeline .axis{display:flex;justify-content:space-between;margin-left:9.6rem;margin-right:9.6rem;color:var(--dim);font-size:.8rem}
.chips code{display:inline-block;margin:0 .25rem .25rem 0}
ul.plain{margin:.25rem 0;padding-left:1.1rem}
section.empty{padding:.6rem 1.3rem}section.empty h2{display:inline;font-size:1.05rem;border:0;margin:0 .75rem 0 0;padding:0}section.empty p.missing{display:inline}
section.failure{border-color:#ffcecb;background:#fffafa}section.failure h2{color:var(--bad);border-color:#ffcecb}
.reason{white-space:pre-wrap;font-weight:500}
ul.notes li{margin:.2rem 0}
footer{color:var(--dim);font-size:.8rem;text-align:center}
@media print{body{background:#fff}section,header.top{break-inside:avoid}nav{display:none}}
`;
