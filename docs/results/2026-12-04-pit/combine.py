# Combines the PIT parts: 2026-12-03 parts A-F, then the later parts given as arguments, in order;
# a later part replaces the rows of the classes it scored. SpanHeap keeps only the rows of methods it still declares.
# Usage: python3 combine.py partG-mutations.csv partH-mutations.csv
import csv, re, collections, sys
import os
here=os.path.dirname(os.path.abspath(__file__))
base=os.path.join(here, '..', '2026-12-03-pit') + '/'
parts=['partA-mutations.csv','partB-mutations-partial.csv','partC-mutations.csv','partD-mutations.csv','partE-mutations.csv','partE2-leakreport-mutations.csv','partF-centrallist-mutations.csv']
extra=sys.argv[1:]  # later parts, in order
def cls(r): return r[1].split('$')[0]
rows={}
def apply(rs):
    classes={cls(r) for r in rs}
    for c in classes: rows[c]=[]
    for r in rs: rows[cls(r)].append(r)
for p in parts: apply(list(csv.reader(open(base+p))))
for p in extra: apply(list(csv.reader(open(p))))
# SpanHeap: keep only mutants of methods still declared in SpanHeap.java
src=open(os.path.join(here, '..', '..', '..', 'allocator-core/src/main/java/dev/spanheap/SpanHeap.java')).read()
names=set(re.findall(r'\b(\w+)\s*\([^;{]*\)\s*(?:throws [\w, .]+)?\{', src))
sh=rows.get('dev.spanheap.SpanHeap',[])
kept=[r for r in sh if r[3] in names or r[3] in ('<init>','<clinit>')]
dropped=len(sh)-len(kept)
rows['dev.spanheap.SpanHeap']=kept
all_=[r for rs in rows.values() for r in rs]
ct=collections.Counter(r[5] for r in all_)
det=ct['KILLED']+ct['TIMED_OUT']+ct['RUN_ERROR']+ct['MEMORY_ERROR']
cov=len(all_)-ct['NO_COVERAGE']
print('mutants',len(all_),'detected',det,'no coverage',ct['NO_COVERAGE'],'survived',ct['SURVIVED'],'strength %.1f%%'%(100*det/cov),'score %.1f%%'%(100*det/len(all_)),'SpanHeap rows dropped (moved methods)',dropped, 'kept', len(kept))
