import FacetImage
