"""PUPPI weights per PF candidate (Bertolini, Harris, Low, Tran, arXiv:1407.6013), CMS-style.

Variant implemented (the paper's "charged + neutral" scheme with CMS's handling of charged
candidates, CMS JINST 15 (2020) P09018):

* charged candidates: weight 1 when associated to the PV (``fromPV >= 2``, or ``fromPV == 1``
  with |dz| < 0.3 cm as in CMS's PUPPI), 0 otherwise (pileup charged);
* neutral candidates: local shape alpha_i = log sum_j (pT_j / Delta R_ij)^2 over Delta R_ij < R0
  = 0.4, with j the charged PV candidates for |eta| < 2.5 (alpha^C) and all candidates beyond
  (alpha^F, no tracking there). Per event, the median and the RMS about the median of alpha for the
  pileup charged candidates (alpha^C in the central region; their alpha^F for the forward region,
  the paper's extrapolation with unit scale factors) define chi2 = Theta(alpha - med)
  (alpha - med)^2 / RMS^2, and w = F_chi2,ndof=1(chi2) (= erf(sqrt(chi2 / 2))); for speed the
  forward median/RMS use the pileup charged candidates nearest the forward region,
  ``FORWARD_REFERENCE_ABS_ETA`` < |eta| < 2.5;
* w < 0.01 is set to 0 (CMS's minimum weight), and neutrals with w pT below
  ``min_neutral_pt + min_neutral_pt_slope * nPV`` get 0 (CMS's nPV-dependent neutral cut; values
  after the CMS 2016-2018 tune, central 0.2 + 0.015 nPV GeV, forward 2.0 + 0.13 nPV GeV; jetml
  recalls them from the CMSSW ``puppi_cfi`` without re-checking the tune for each year);
* a neutral with no neighbour has alpha = -inf, hence w = 0; in an event without pileup charged
  candidates (mu = 0) the neutrals keep w = 1 before the pT cut.

Runs in numba over whole batches; neighbours are found in an eta-sorted sweep, not by all pairs.
"""

from __future__ import annotations

import math

import numba
import numpy as np

CENTRAL_ABS_ETA = 2.5
CONE = 0.4
FORWARD_REFERENCE_ABS_ETA = 2.0
MIN_WEIGHT = 0.01
DZ_CUT = 0.3  # cm
MIN_NEUTRAL_PT = (0.2, 2.0)  # GeV, central / forward
MIN_NEUTRAL_PT_SLOPE = (0.015, 0.13)  # GeV per reconstructed vertex


def puppi_weights(
    offsets: np.ndarray,
    pt: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    charge: np.ndarray,
    from_pv: np.ndarray,
    dz: np.ndarray,
    npv: np.ndarray,
) -> np.ndarray:
    """PUPPI weight of every candidate (flat, grouped by event ``offsets``)."""
    charged = charge != 0
    pv_charged = charged & ((from_pv >= 2) | ((from_pv == 1) & (np.abs(dz) < DZ_CUT)))
    pu_charged = charged & ~pv_charged
    return _weights(
        offsets.astype(np.int64),
        pt.astype(np.float64),
        eta.astype(np.float64),
        phi.astype(np.float64),
        charged,
        pv_charged,
        pu_charged,
        npv.astype(np.float64),
    )


@numba.njit(cache=True)
def _alpha(i, eta, phi, pt, neighbours, neighbour_eta) -> float:
    """log sum (pT_j / dR)^2 over the eta-sorted ``neighbours`` within CONE of candidate i."""
    low = np.searchsorted(neighbour_eta, eta[i] - CONE)
    total = 0.0
    for k in range(low, len(neighbours)):
        j = neighbours[k]
        d_eta = eta[j] - eta[i]
        if d_eta > CONE:
            break
        if j == i:
            continue
        d_phi = abs(phi[j] - phi[i])
        if d_phi > np.pi:
            d_phi = 2.0 * np.pi - d_phi
        dr2 = d_eta * d_eta + d_phi * d_phi
        if dr2 < CONE * CONE and dr2 > 0.0:
            total += pt[j] * pt[j] / dr2
    return math.log(total) if total > 0.0 else -np.inf


@numba.njit(cache=True)
def _median_rms(values):
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return np.nan, np.nan
    median = np.median(finite)
    rms = math.sqrt(np.mean((finite - median) ** 2))
    return median, rms


@numba.njit(cache=True)
def _weights(offsets, pt, eta, phi, charged, pv_charged, pu_charged, npv):
    weights = np.zeros(len(pt))
    for event in range(len(offsets) - 1):
        start, stop = offsets[event], offsets[event + 1]
        rows = np.arange(start, stop)
        order = rows[np.argsort(eta[start:stop])]
        pv_rows = order[pv_charged[order]]
        pv_eta = eta[pv_rows]
        all_eta = eta[order]
        pu_rows = rows[pu_charged[start:stop]]
        alpha_c_pu = np.empty(len(pu_rows))
        alpha_f_pu = np.full(len(pu_rows), -np.inf)
        for k in range(len(pu_rows)):
            alpha_c_pu[k] = _alpha(pu_rows[k], eta, phi, pt, pv_rows, pv_eta)
            if abs(eta[pu_rows[k]]) > FORWARD_REFERENCE_ABS_ETA:
                alpha_f_pu[k] = _alpha(pu_rows[k], eta, phi, pt, order, all_eta)
        med_c, rms_c = _median_rms(alpha_c_pu)
        med_f, rms_f = _median_rms(alpha_f_pu)
        for i in range(start, stop):
            if charged[i]:
                weights[i] = 1.0 if pv_charged[i] else 0.0
                continue
            central = abs(eta[i]) < CENTRAL_ABS_ETA
            region = 0 if central else 1
            cut = MIN_NEUTRAL_PT[region] + MIN_NEUTRAL_PT_SLOPE[region] * npv[event]
            if pt[i] < cut:  # fails the neutral pT cut even at w = 1
                weights[i] = 0.0
                continue
            if central:
                alpha = _alpha(i, eta, phi, pt, pv_rows, pv_eta)
                median, rms = med_c, rms_c
            else:
                alpha = _alpha(i, eta, phi, pt, order, all_eta)
                median, rms = med_f, rms_f
            if np.isnan(median):
                w = 1.0
            elif not np.isfinite(alpha):
                w = 0.0
            elif alpha <= median:
                w = 0.0
            elif rms <= 0.0:
                w = 1.0
            else:
                chi2 = (alpha - median) ** 2 / (rms * rms)
                w = math.erf(math.sqrt(chi2 / 2.0))
            if w < MIN_WEIGHT or w * pt[i] < cut:
                w = 0.0
            weights[i] = w
    return weights
