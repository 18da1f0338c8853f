import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{b as e,c as r}from"./chunk-EOWM2PIV.js";var s=r((a,i)=>{i.exports=e("node:path")});var t=r((b,o)=>{o.exports=e("node:child_process")});var u=r((c,p)=>{p.exports=e("node:fs/promises")});var x=r((d,q)=>{q.exports=e("node:fs")});export{s as a,t as b,u as c,x as d};
