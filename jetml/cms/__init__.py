"""The official CMS networks: their checksums, the timing table, the ParticleNet crosscheck.

* :mod:`jetml.cms.checksums`: sha256 of every official CMS model / preprocess file jetml runs;
* :mod:`jetml.cms.timing`: CMSSW-style vs jetml evaluation of the real networks (``jetml bench``);
* :mod:`jetml.cms.crosscheck`: ParticleNet scores vs those CMSSW stored (``jetml crosscheck``).

The ParticleNet taggers themselves are taggers like the others (:mod:`jetml.taggers.particlenet`)
and their inputs a feature recipe (:mod:`jetml.features.cms_pfnano`).
"""
