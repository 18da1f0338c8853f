import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);
import{b as e,c as r}from"./chunk-EOWM2PIV.js";var p=r((s,i)=>{i.exports=e("node:process")});var q=r((t,o)=>{o.exports=e("node:os")});export{q as a,p as b};
