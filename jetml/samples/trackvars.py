"""Track variables relative to a jet axis, as CMS's b-tagging ``TrackInfoBuilder`` defines them.

Tracks are straight lines through their point of closest approach to the beam line (the
perigee given by d0, dz, phi, eta); the primary vertex is the origin. Neutral candidates get 0,
as in CMS PFNano.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TrackVariables:
    """The PFNano ``btag*`` columns of jet constituents."""

    eta_rel: np.ndarray
    pt_ratio: np.ndarray
    ppar_ratio: np.ndarray
    sip3d_val: np.ndarray
    sip3d_sig: np.ndarray
    jet_dist_val: np.ndarray


def track_variables(
    *,
    pt: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    d0: np.ndarray,
    d0_err: np.ndarray,
    dz: np.ndarray,
    dz_err: np.ndarray,
    charged: np.ndarray,
    jet_px: np.ndarray,
    jet_py: np.ndarray,
    jet_pz: np.ndarray,
) -> TrackVariables:
    """Track variables of constituents (one row each) w.r.t. their jet's axis (same rows).

    etaRel: pseudorapidity of the track w.r.t. the jet axis; ptRatio / pParRatio: momentum
    perpendicular / parallel to the axis over |p|; sip3d: 3D impact parameter signed by the jet
    direction, and its significance; jetDistVal: minus the distance of closest approach between
    the track line and the jet axis (<= 0, CMS selects tracks with jetDist > -0.07 cm).
    """
    sin_theta = 1.0 / np.cosh(eta)
    cos_theta = np.tanh(eta)
    ux, uy, uz = np.cos(phi) * sin_theta, np.sin(phi) * sin_theta, cos_theta
    p = pt * np.cosh(eta)
    jet_norm = np.sqrt(jet_px**2 + jet_py**2 + jet_pz**2)
    jx, jy, jz = jet_px / jet_norm, jet_py / jet_norm, jet_pz / jet_norm
    p_par = p * (ux * jx + uy * jy + uz * jz)
    cross_x, cross_y, cross_z = uy * jz - uz * jy, uz * jx - ux * jz, ux * jy - uy * jx
    sin_angle = np.sqrt(cross_x**2 + cross_y**2 + cross_z**2)
    p_perp = p * sin_angle
    eta_rel = 0.5 * np.log(np.maximum(p + p_par, 1e-12) / np.maximum(p - p_par, 1e-12))

    # Perigee point P and the point of closest approach to the PV, PCA = P - (P.u) u.
    point_x, point_y, point_z = -d0 * np.sin(phi), d0 * np.cos(phi), dz
    along = point_z * uz
    pca_x, pca_y, pca_z = point_x - along * ux, point_y - along * uy, point_z - along * uz
    ip3d = np.sqrt(pca_x**2 + pca_y**2 + pca_z**2)
    sign = np.where(pca_x * jx + pca_y * jy + pca_z * jz >= 0, 1.0, -1.0)
    ip3d_err = np.sqrt((d0 * d0_err) ** 2 + (dz * sin_theta**2 * dz_err) ** 2) / np.maximum(
        ip3d, 1e-12
    )
    ip3d_err = np.where(ip3d > 0, ip3d_err, np.hypot(d0_err, dz_err * sin_theta))
    jet_dist = np.abs(point_x * cross_x + point_y * cross_y + point_z * cross_z) / np.maximum(
        sin_angle, 1e-12
    )

    def charged_only(values: np.ndarray) -> np.ndarray:
        return np.where(charged, values, 0.0)

    return TrackVariables(
        eta_rel=charged_only(eta_rel),
        pt_ratio=charged_only(p_perp / p),
        ppar_ratio=charged_only(p_par / p),
        sip3d_val=charged_only(sign * ip3d),
        sip3d_sig=charged_only(sign * ip3d / ip3d_err),
        jet_dist_val=charged_only(-jet_dist),
    )
