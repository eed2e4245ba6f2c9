#!/usr/bin/env python3
"""Generates packages/Tpm.Hardware/Wire/TpmConstants.g.cs from libtss2-dev's TPM 2.0 header."""
import re
h=open('/usr/include/tss2/tss2_tpm2_types.h').read()
def pascal(s):
    parts=[p for p in s.split('_') if p]
    out=''
    for p in parts:
        if p.isupper() or p.isdigit(): out+=p[0].upper()+p[1:].lower()
        else: out+=p[0].upper()+p[1:]
    return out
def collect(prefix, typ):
    vals={}
    for m in re.finditer(r'#define\s+'+prefix+r'(\w+)\s+\(\(\w+\)\s*\(?([^)]*)\)?\)', h):
        vals[m.group(1)]=m.group(2).strip()
    return vals
def enum(name, prefix, doc, basetype, skip=(), evalfn=None, flags=False):
    vals=collect(prefix, basetype)
    lines=[]
    seen=set()
    for k,v in vals.items():
        if k in skip: continue
        n=pascal(k)
        if n[0].isdigit(): n='_'+n
        if n in seen: continue
        seen.add(n)
        v=v.replace('TPM2_RC_','').strip()
        lines.append((n,k,v))
    return lines
out=[]
out.append('// Generated from /usr/include/tss2/tss2_tpm2_types.h (libtss2-dev) by eng/gen-constants.py; regenerate, do not edit.')
out.append('#pragma warning disable CA1028, CA1008, CA1069, CA1720, CA1711, CA1027, CS1591')
out.append('namespace TrustStack.Tpm.Hardware;\n')
def emit(cname, prefix, base, doc, flags=False, skip=()):
    vals=collect(prefix, None)
    out.append(f'/// <summary>{doc}</summary>')
    if flags: out.append('[System.Flags]')
    out.append(f'public enum {cname} : {base}\n{{')
    seen=set()
    for k,v in vals.items():
        if k in skip: continue
        n=pascal(k)
        if n[0].isdigit(): n='V'+n
        if n in seen: continue
        seen.add(n)
        v=re.sub(r'\b'+prefix+r'(\w+)', lambda m: pascal(m.group(1)) if not pascal(m.group(1))[0].isdigit() else 'V'+pascal(m.group(1)), v)
        v=v.replace('TPM2_RC_','')
        if v.upper().endswith('U'): v=v[:-1]
        out.append(f'    /// <summary>{prefix}{k}</summary>\n    {n} = unchecked(({base})({v})),')
    out.append('}\n')
emit('TpmCc','TPM2_CC_','uint','TPM_CC: command codes (TPM 2.0 Part 2 §6.5).', skip=('FIRST','LAST','Vendor_TCG_Test','NV_FIRST','NV_LAST'))
emit('TpmAlgId','TPM2_ALG_','ushort','TPM_ALG_ID: algorithm identifiers (TPM 2.0 Part 2 §6.3).', skip=('SHA','FIRST','LAST'))
emit('TpmSt','TPM2_ST_','ushort','TPM_ST: structure tags (TPM 2.0 Part 2 §6.9).')
emit('TpmCap','TPM2_CAP_','uint','TPM_CAP: capability selectors (TPM 2.0 Part 2 §6.12).', skip=('FIRST','LAST'))
emit('TpmSu','TPM2_SU_','ushort','TPM_SU: startup types (TPM 2.0 Part 2 §6.6).')
emit('TpmEccCurve','TPM2_ECC_','ushort','TPM_ECC_CURVE: curve identifiers (TPM 2.0 Part 2 §6.4).')
emit('TpmSe','TPM2_SE_','byte','TPM_SE: session types (TPM 2.0 Part 2 §6.11).')
first=list(out)
out2=[]
import io
out=[]
out.append('// Generated from /usr/include/tss2/tss2_tpm2_types.h (libtss2-dev) by eng/gen-constants.py; regenerate, do not edit.')
out.append('#pragma warning disable CA1028, CA1008, CA1069, CA1720, CA1711, CA1027, CS1591')
out.append('namespace TrustStack.Tpm.Hardware;\n')
emit('TpmRc','TPM2_RC_','uint','TPM_RC: response codes (TPM 2.0 Part 2 §6.6). Format-one codes add <c>H</c>/<c>P</c>/<c>S</c> plus a number.', skip=())
emit('TpmPt','TPM2_PT_','uint','TPM_PT: property tags for TPM_CAP_TPM_PROPERTIES (TPM 2.0 Part 2 §6.13).', skip=('TPM2_PCR_FIRST','PCR_SAVE','PCR_EXTEND_L0','PCR_RESET_L0','PCR_EXTEND_L1','PCR_RESET_L1','PCR_EXTEND_L2','PCR_RESET_L2','PCR_EXTEND_L3','PCR_RESET_L3','PCR_EXTEND_L4','PCR_RESET_L4','PCR_NO_INCREMENT','PCR_DRTM_RESET','PCR_POLICY','PCR_AUTH','TPM2_PCR_LAST','PCR_LAST','PCR_FIRST'))
open('packages/Tpm.Hardware/Wire/TpmConstants.cs','w').write('\n'.join(first+out[3:])+'\n')
