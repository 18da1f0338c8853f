import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{b as e,c as r}from"./chunk-EOWM2PIV.js";var p=r((s,i)=>{i.exports=e("node:buffer")});var q=r((t,o)=>{o.exports=e("node:url")});export{p as a,q as b};
